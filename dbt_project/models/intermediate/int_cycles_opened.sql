{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Care-cycle boundaries of METRICS.md section 2, one row per cycle. Incremental by
    conversation: a cycle depends only on its own conversation's messages and status changes, so a
    run rewrites the conversations with events newer than the stored source_seq. -#}
with customer_messages as (
    select * from {{ ref('stg_inbox__messages') }}
    where is_customer_message
    {% if is_incremental() %}
        and conversation_id in {{ touched_conversations(with_contacts=false) }}
    {% endif %}
),

resolutions as (
    select * from {{ ref('stg_inbox__status_changes') }}
    where status = 'resolved'
    {% if is_incremental() %}
        and conversation_id in {{ touched_conversations(with_contacts=false) }}
    {% endif %}
),

boundaries as (
    select
        conversation_id,
        sent_at as boundary_at,
        seq,
        'open' as boundary_kind,
        inbox_id,
        contact_id,
        cast(null as varchar) as resolution_kind,
        cast(null as varchar) as actor_kind,
        cast(null as varchar) as actor_id
    from customer_messages
    union all
    select
        conversation_id,
        changed_at as boundary_at,
        seq,
        'resolve' as boundary_kind,
        inbox_id,
        contact_id,
        resolution_kind,
        actor_kind,
        actor_id
    from resolutions
),

ordered as (
    select
        *,
        lag(boundary_kind) over (
            partition by conversation_id order by boundary_at, seq
        ) as previous_kind
    from boundaries
),

flagged as (
    -- a customer message opens a cycle when none is open; a resolve closes the open one
    select
        *,
        boundary_kind = 'open' and coalesce(previous_kind, 'resolve') = 'resolve' as is_opening,
        boundary_kind = 'resolve' and previous_kind = 'open' as is_closing
    from ordered
),

counted as (
    select
        *,
        sum(case when is_opening then 1 else 0 end) over (
            partition by conversation_id order by boundary_at, seq
            rows between unbounded preceding and current row
        ) as opening_count
    from flagged
),

numbered as (
    select
        * exclude (opening_count),
        cast(opening_count as bigint) as cycle_number
    from counted
    where is_opening or is_closing
),

openings as (
    select * from numbered where is_opening
),

closings as (
    select * from numbered where is_closing
),

cycles as (
    select
        openings.conversation_id || ':' || openings.cycle_number as cycle_id,
        openings.conversation_id,
        openings.cycle_number,
        openings.inbox_id,
        openings.contact_id,
        openings.boundary_at as opened_at,
        openings.seq as opening_seq,
        closings.boundary_at as resolved_at,
        closings.seq as resolving_seq,
        closings.resolution_kind,
        closings.actor_kind as resolving_actor_kind,
        closings.actor_id as resolving_actor_id
    from openings
    left join closings
        on openings.conversation_id = closings.conversation_id
        and openings.cycle_number = closings.cycle_number
),

final as (
    select
        *,
        {{ timeline_key('opened_at', 'opening_seq') }} as opening_key,
        lead(opened_at) over (
            partition by conversation_id order by cycle_number
        ) as next_opened_at,
        {{ source_seq() }} as source_seq
    from cycles
)

select * from final
