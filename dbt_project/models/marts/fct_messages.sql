-- depends_on: {{ ref('stg_inbox__status_changes') }}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Incremental by conversation: a run rewrites every message of the conversations touched by
    new events (a late or out-of-order event can move messages to another cycle). -#}
with
{% if is_incremental() %}
{%- set watermark = stored_max('event_seq') %}
-- each reference to a 10-million-row table reads it afresh: a CTE referenced twice would be
-- materialised whole
touched_conversations as (
    select conversation_id from {{ ref('int_messages_cycled') }}
    where seq > {{ watermark }}
    union
    select conversation_id from {{ ref('stg_inbox__status_changes') }}
    where seq > {{ watermark }}
    union
    select conversation_id from {{ ref('int_messages_cycled') }}
    where message_id in (
        select message_id from {{ ref('stg_inbox__message_statuses') }}
        where seq > {{ watermark }}
    )
),

scoped as (
    select * from {{ ref('int_messages_cycled') }}
    where conversation_id in (select conversation_id from touched_conversations)
),
{% else %}
scoped as (
    select * from {{ ref('int_messages_cycled') }}
),
{% endif %}

status_times as (
    select
        message_id,
        min(status_at) filter (where status = 'delivered') as delivered_at,
        min(status_at) filter (where status = 'read') as read_at,
        min(status_at) filter (where status = 'failed') as failed_at,
        arg_min(error_code, status_at) filter (where status = 'failed') as error_code
    from {{ ref('stg_inbox__message_statuses') }}
    {% if is_incremental() %}
    where message_id in (select message_id from scoped)
    {% endif %}
    group by message_id
),

final as (
    select
        scoped.message_id,
        scoped.conversation_id,
        scoped.cycle_id,
        scoped.inbox_id,
        md5(scoped.contact_id) as contact_id,
        scoped.direction,
        scoped.sender_kind,
        scoped.agent_id,
        scoped.message_type,
        scoped.automation_kind,
        scoped.is_template,
        scoped.is_human_reply,
        scoped.sent_at,
        {{ local_date('scoped.sent_at') }} as sent_date,
        status_times.delivered_at,
        status_times.read_at,
        status_times.failed_at,
        status_times.error_code,
        scoped.seq as event_seq,
        {{ source_seq() }} as source_seq
    from scoped
    left join status_times
        on scoped.message_id = status_times.message_id
)

select * from final
