-- depends_on: {{ ref('int_conversations_touched') }}
{{
    config(
        materialized='incremental',
        unique_key='conversation_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Clock start and first human reply per cycle (METRICS.md section 3, FRT), and the cycle's
    waits for a human reply (backlog age). Messages and handoffs take the latest cycle opened at
    or before them, in one ASOF join. Incremental by conversation: a run rewrites the
    conversations with events newer than the stored source_seq. -#}
with {{ business_clock_ctes() }},

{% if is_incremental() %}
scope as (
    select conversation_key from {{ touched_conversations() }}
),
{% endif %}

cycles as (
    select * from {{ ref('int_cycles_opened') }}
    {{ in_scope('where') }}
),

conversations as (
    {{ cycle_openings(scoped=true) }}
),

activity as (
    select
        conversation_key,
        {{ timeline_key('sent_at', 'seq') }} as timeline_key,
        sent_at as occurred_at,
        agent_id,
        is_customer_message,
        is_human_reply,
        is_bot_message,
        false as is_handoff
    from {{ ref('stg_inbox__messages') }}
    where (is_customer_message or is_human_reply or is_bot_message) {{ in_scope('and') }}
    union all
    select
        conversation_key,
        {{ timeline_key('occurred_at', 'seq') }},
        occurred_at,
        null,
        false,
        false,
        false,
        true
    from {{ ref('stg_inbox__events') }}
    where event_type = 'handoff' {{ in_scope('and') }}
),

numbered as (
    select
        activity.*,
        {{ cycle_number('conversations.opening_keys', 'activity.timeline_key') }} as cycle_number
    from activity
    inner join conversations
        on activity.conversation_key = conversations.conversation_key
),

cycled as (
    select
        numbered.*,
        cycles.resolved_at
    from numbered
    inner join cycles
        on numbered.conversation_key = cycles.conversation_key
        and numbered.cycle_number = cycles.cycle_number
),

waits_marked as (
    -- a wait starts at a customer message that follows a human reply (or none) in the cycle
    -- and ends at the next human reply; both from one sort of the cycle's activity
    select
        *,
        lag(case when is_customer_message then true when is_human_reply then false end ignore nulls)
            over by_time as follows_customer,
        lead(case when is_human_reply then occurred_at end ignore nulls) over by_time
            as next_reply_at
    from cycled
    window by_time as (partition by conversation_key, cycle_number order by timeline_key)
),

cycle_facts as (
    select
        conversation_key,
        cycle_number,
        count(*) filter (where is_customer_message) as customer_message_count,
        count(*) filter (where is_human_reply) as agent_message_count,
        bool_or(is_bot_message) as has_bot_message,
        min(occurred_at) filter (where is_handoff) as handoff_at,
        min(occurred_at) filter (
            where is_human_reply and occurred_at <= coalesce(resolved_at, occurred_at)
        ) as first_response_at,
        arg_min(agent_id, timeline_key) filter (
            where is_human_reply and occurred_at <= coalesce(resolved_at, occurred_at)
        ) as first_responder_agent_id,
        list({'started_at': occurred_at, 'ended_at': next_reply_at}) filter (
            where is_customer_message and not coalesce(follows_customer, false)
        ) as waits
    from waits_marked
    group by conversation_key, cycle_number
),

joined as (
    select
        cycles.cycle_id,
        cycles.conversation_key,
        cycles.cycle_number,
        cycles.conversation_id,
        cycles.opened_at,
        coalesce(cycle_facts.has_bot_message, false)
        or cycle_facts.handoff_at is not null as had_bot,
        cycle_facts.handoff_at,
        coalesce(cycle_facts.handoff_at, cycles.opened_at) as clock_start_at,
        cycle_facts.first_response_at,
        cycle_facts.first_responder_agent_id,
        coalesce(cycle_facts.customer_message_count, 0) as customer_message_count,
        coalesce(cycle_facts.agent_message_count, 0) as agent_message_count,
        coalesce(cycle_facts.waits, []) as waits
    from cycles
    left join cycle_facts
        on cycles.conversation_key = cycle_facts.conversation_key
        and cycles.cycle_number = cycle_facts.cycle_number
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
        {{ feed_seq() }} as source_seq
    from joined
)

select * from measured
