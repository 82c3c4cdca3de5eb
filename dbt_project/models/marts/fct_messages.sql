-- depends_on: {{ ref('int_conversations_touched') }}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ record_watermark() }}"
    )
}}
{#- Incremental by conversation: a run rewrites every message of the conversations with events
    newer than this table's watermark (a late or out-of-order event can move messages to another
    cycle; a new status changes a message's delivery times). -#}
with
{% if is_incremental() %}
scope as (
    select conversation_key from {{ touched_conversations() }}
),
{% endif %}

messages as (
    select * from {{ ref('stg_inbox__messages') }}
    {{ in_scope('where') }}
),

conversations as (
    {{ cycle_openings(scoped=true) }}
),

cycled as (
    select
        messages.*,
        {{ cycle_number(
            'conversations.opening_keys', timeline_key('messages.sent_at', 'messages.seq')
        ) }} as cycle_number,
        conversations.contact_hash
    from messages
    left join conversations
        on messages.conversation_key = conversations.conversation_key
),

status_times as (
    -- statuses count within their message's conversation
    select
        conversation_key,
        message_key,
        min(status_at) filter (where status = 'delivered') as delivered_at,
        min(status_at) filter (where status = 'read') as read_at,
        min(status_at) filter (where status = 'failed') as failed_at,
        arg_min(error_code, status_at) filter (where status = 'failed') as error_code
    from {{ ref('stg_inbox__message_statuses') }}
    {{ in_scope('where') }}
    group by conversation_key, message_key
),

final as (
    select
        cycled.message_id,
        cycled.conversation_id,
        case
            when cycled.cycle_number > 0 then cycled.conversation_id || ':' || cycled.cycle_number
        end as cycle_id,
        cycled.inbox_id,
        coalesce(cycled.contact_hash, md5(cycled.contact_id)) as contact_id,
        cycled.direction,
        cycled.sender_kind,
        cycled.agent_id,
        cycled.message_type,
        cycled.automation_kind,
        cycled.is_template,
        cycled.is_human_reply,
        cycled.sent_at,
        {{ local_date('cycled.sent_at') }} as sent_date,
        status_times.delivered_at,
        status_times.read_at,
        status_times.failed_at,
        status_times.error_code,
        cycled.seq as event_seq
    from cycled
    left join status_times
        on cycled.conversation_key = status_times.conversation_key
        and cycled.message_key = status_times.message_key
)

select * from final
