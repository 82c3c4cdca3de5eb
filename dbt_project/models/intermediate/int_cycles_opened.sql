-- depends_on: {{ ref('int_conversations_touched') }}
{{
    config(
        materialized='incremental',
        unique_key='conversation_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Care-cycle boundaries of METRICS.md section 2, one row per cycle. Incremental by
    conversation: a cycle depends only on its own conversation's messages and status changes, so a
    run rewrites the conversations with events newer than the stored source_seq. -#}
with
{% if is_incremental() %}
scope as (
    select conversation_key from {{ touched_conversations() }}
),
{% endif %}

customer_messages as (
    select
        conversation_key,
        conversation_id,
        sent_at as boundary_at,
        seq,
        true as is_open_boundary,
        inbox_id,
        contact_id,
        cast(null as varchar) as resolution_kind,
        cast(null as varchar) as actor_kind,
        cast(null as varchar) as actor_id
    from {{ ref('stg_inbox__messages') }}
    where is_customer_message {{ in_scope('and') }}
),

resolutions as (
    select
        conversation_key,
        conversation_id,
        occurred_at as boundary_at,
        seq,
        false as is_open_boundary,
        inbox_id,
        contact_id,
        resolution_kind,
        actor_kind,
        actor_id
    from {{ ref('stg_inbox__events') }}
    where event_type = 'status_change' and status = 'resolved' {{ in_scope('and') }}
),

boundaries as (
    select * from customer_messages
    union all
    select * from resolutions
),

edges as (
    -- a customer message opens a cycle when none is open (the boundary before it is a resolve,
    -- or there is none); a resolve closes the open one (the boundary before it is a customer
    -- message). Openings and closings then strictly alternate, starting with an opening.
    select *
    from boundaries
    qualify is_open_boundary <> coalesce(
        lag(is_open_boundary) over (
            partition by conversation_key order by boundary_at, seq
        ),
        false
    )
),

paired as (
    select
        *,
        row_number() over by_time as edge_number,
        lead(boundary_at) over by_time as closed_at,
        lead(seq) over by_time as closing_seq,
        lead(resolution_kind) over by_time as closing_resolution_kind,
        lead(actor_kind) over by_time as closing_actor_kind,
        lead(actor_id) over by_time as closing_actor_id,
        lead(boundary_at, 2) over by_time as next_opened_at
    from edges
    window by_time as (partition by conversation_key order by boundary_at, seq)
),

cycles as (
    select
        conversation_id || ':' || ((edge_number + 1) // 2) as cycle_id,
        conversation_key,
        conversation_id,
        cast((edge_number + 1) // 2 as bigint) as cycle_number,
        inbox_id,
        contact_id,
        boundary_at as opened_at,
        seq as opening_seq,
        closed_at as resolved_at,
        closing_seq as resolving_seq,
        closing_resolution_kind as resolution_kind,
        closing_actor_kind as resolving_actor_kind,
        closing_actor_id as resolving_actor_id,
        {{ timeline_key('boundary_at', 'seq') }} as opening_key,
        next_opened_at,
        {{ feed_seq() }} as source_seq
    from paired
    where is_open_boundary
)

select * from cycles
