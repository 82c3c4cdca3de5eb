{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Clock start and first human reply per cycle (METRICS.md section 3, FRT). Incremental by
    conversation: a run rewrites the conversations with events newer than the stored source_seq. -#}
with {{ business_clock_ctes() }},

{% if is_incremental() %}
scope as (
    select conversation_id from {{ touched_conversations(with_contacts=false) }}
),
{% endif %}

cycles as not materialized (
    select * from {{ ref('int_cycles_opened') }}
    {{ in_scope('where') }}
),

messages as not materialized (
    select * from {{ ref('int_messages_cycled') }}
    where cycle_id is not null
    {{ in_scope('and') }}
),

scoped_handoffs as (
    select * from {{ ref('stg_inbox__handoffs') }}
    {{ in_scope('where') }}
),

handoffs as (
    {{ with_cycle_id('scoped_handoffs') }}
),

first_handoffs as (
    select
        cycle_id,
        min(handoff_at) as handoff_at
    from handoffs
    where cycle_id is not null
    group by cycle_id
),

message_facts as (
    select
        messages.cycle_id,
        count(*) filter (where messages.is_customer_message) as customer_message_count,
        count(*) filter (where messages.is_human_reply) as agent_message_count,
        bool_or(messages.direction = 'outbound' and messages.sender_kind = 'bot') as has_bot_message,
        min(messages.sent_at) filter (
            where messages.is_human_reply
            and messages.sent_at <= coalesce(cycles.resolved_at, messages.sent_at)
        ) as first_response_at
    from messages
    inner join cycles
        on messages.cycle_id = cycles.cycle_id
    group by messages.cycle_id
),

first_responders as (
    select
        messages.cycle_id,
        messages.agent_id as first_responder_agent_id
    from messages
    inner join message_facts
        on messages.cycle_id = message_facts.cycle_id
        and messages.sent_at = message_facts.first_response_at
    where messages.is_human_reply
    qualify row_number() over (partition by messages.cycle_id order by messages.seq) = 1
),

joined as (
    select
        cycles.cycle_id,
        cycles.conversation_id,
        cycles.opened_at,
        coalesce(message_facts.has_bot_message, false)
        or first_handoffs.handoff_at is not null as had_bot,
        first_handoffs.handoff_at,
        coalesce(first_handoffs.handoff_at, cycles.opened_at) as clock_start_at,
        message_facts.first_response_at,
        first_responders.first_responder_agent_id,
        coalesce(message_facts.customer_message_count, 0) as customer_message_count,
        coalesce(message_facts.agent_message_count, 0) as agent_message_count
    from cycles
    left join first_handoffs
        on cycles.cycle_id = first_handoffs.cycle_id
    left join message_facts
        on cycles.cycle_id = message_facts.cycle_id
    left join first_responders
        on cycles.cycle_id = first_responders.cycle_id
),

measured as (
    select
        *,
        first_response_at is not null as is_answered,
        coalesce(first_response_at < clock_start_at, false) as is_reply_before_clock,
        {{ local_date('clock_start_at') }} as clock_start_date,
        {{ is_business('clock_start_at') }} as is_business_start,
        case
            when first_response_at < clock_start_at then 0.0
            else {{ calendar_seconds('clock_start_at', 'first_response_at') }}
        end as frt_seconds,
        case
            when first_response_at < clock_start_at then 0.0
            else {{ bsec('clock_start_at', 'first_response_at') }}
        end as frt_business_seconds,
        {{ source_seq() }} as source_seq
    from joined
)

select * from measured
