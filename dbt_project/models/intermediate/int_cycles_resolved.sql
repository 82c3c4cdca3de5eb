-- depends_on: {{ ref('int_conversations_touched') }}
{{
    config(
        materialized='incremental',
        unique_key='conversation_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Resolution time per cycle (METRICS.md section 3, ART) and reopens. Incremental by
    conversation: a run rewrites the conversations with events newer than the stored source_seq. -#}
with {{ business_clock_ctes() }},

{% if is_incremental() %}
scope as (
    select conversation_key from {{ touched_conversations() }}
),
{% endif %}

cycles as (
    select * from {{ ref('int_cycles_opened') }}
    where resolved_at is not null {{ in_scope('and') }}
),

responded as (
    select cycle_id, clock_start_at, is_answered from {{ ref('int_cycles_responded') }}
    {{ in_scope('where') }}
),

assignments as (
    select
        conversation_key,
        agent_id,
        {{ timeline_key('occurred_at', 'seq') }} as timeline_key
    from {{ ref('stg_inbox__events') }}
    where event_type = 'assignment' {{ in_scope('and') }}
),

resolved as (
    select
        cycles.cycle_id,
        cycles.conversation_key,
        cycles.conversation_id,
        cycles.resolved_at,
        cycles.resolution_kind,
        cycles.resolving_actor_kind,
        cycles.resolving_actor_id,
        {{ timeline_key('cycles.resolved_at', 'cycles.resolving_seq') }} as resolving_key,
        cycles.next_opened_at,
        responded.clock_start_at,
        responded.is_answered
    from cycles
    inner join responded
        on cycles.cycle_id = responded.cycle_id
),

with_assignee as (
    select
        resolved.*,
        assignments.agent_id as assignee_at_resolution
    from resolved
    asof left join assignments
        on resolved.conversation_key = assignments.conversation_key
        and resolved.resolving_key >= assignments.timeline_key
),

measured as (
    select
        cycle_id,
        conversation_key,
        conversation_id,
        resolved_at,
        {{ local_date('resolved_at') }} as resolved_date,
        resolution_kind,
        -- the agent who resolved; automatic resolutions go to the assignee at that moment
        case
            when resolving_actor_kind = 'agent' and resolving_actor_id is not null
                then resolving_actor_id
            else coalesce(assignee_at_resolution, 'unassigned')
        end as resolving_agent_id,
        {{ calendar_seconds('clock_start_at', 'resolved_at') }} as resolution_seconds,
        {{ bsec('clock_start_at', 'resolved_at') }} as resolution_business_seconds,
        resolved_at < clock_start_at as has_clock_anomaly,
        is_answered and coalesce(resolution_kind, '') <> 'auto_inactivity' as is_in_art,
        next_opened_at is not null as is_reopened,
        {{ feed_seq() }} as source_seq
    from with_assignee
)

select * from measured
