-- depends_on: {{ ref('stg_inbox__status_changes') }}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Every message with the care cycle it belongs to: the latest cycle of its conversation opened
    at or before it in (occurred_at, seq) order; messages before the first cycle (template
    outreach) have no cycle. Incremental by conversation: cycles depend only on their own
    conversation's events, so a run rewrites just the conversations touched by new messages or
    status changes (late and out-of-order events included). -#}
with
{% if is_incremental() %}
{%- set watermark = stored_max('seq') %}
touched_conversations as (
    select conversation_id from {{ ref('stg_inbox__messages') }}
    where seq > {{ watermark }}
    union
    select conversation_id from {{ ref('stg_inbox__status_changes') }}
    where seq > {{ watermark }}
),

scoped as (
    -- every reference to the 10-million-row messages table reads it afresh: a CTE referenced
    -- twice would be materialised whole
    select * from {{ ref('stg_inbox__messages') }}
    where conversation_id in (select conversation_id from touched_conversations)
),
{% else %}
scoped as (
    select * from {{ ref('stg_inbox__messages') }}
),
{% endif %}

cycles as (
    select cycle_id, conversation_id, opening_key from {{ ref('int_cycles_opened') }}
),

keyed as (
    select *, {{ timeline_key('sent_at', 'seq') }} as timeline_key
    from scoped
),

cycled as (
    select
        keyed.*,
        cycles.cycle_id
    from keyed
    asof left join cycles
        on keyed.conversation_id = cycles.conversation_id
        and keyed.timeline_key >= cycles.opening_key
)

select * from cycled
