{#- First-response SLA per cycle (METRICS.md section 3, SLA compliance). -#}
-- depends_on: {{ ref('int_conversations_touched') }}
{%- if var('sla_clock') not in ['calendar', 'business'] -%}
    {{ exceptions.raise_compiler_error(
        "var sla_clock must be 'calendar' or 'business', got '" ~ var('sla_clock') ~ "'"
    ) }}
{%- endif %}
{{
    config(
        materialized='incremental',
        unique_key='conversation_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Incremental by conversation: a run rewrites the conversations with events newer than the
    stored source_seq, and those with an unanswered cycle whose deadline lies between the as_of it
    was classified at and the current one (the only cycles as_of moves between pending and
    breached). -#}
with {{ business_clock_ctes() }},

as_of as (
    select as_of_at from {{ ref('stg_inbox__run_as_of') }}
),

{% if is_incremental() %}
scope as (
    select conversation_key from {{ touched_conversations() }}
    union
    select conversation_key from {{ this }}
    where sla_status in ('pending', 'breached')
        and not is_answered
        and sla_deadline_at >= least(as_of_at, (select as_of_at from as_of))
        and sla_deadline_at < greatest(as_of_at, (select as_of_at from as_of))
),
{% endif %}

cycles as (
    select * from {{ ref('int_cycles_opened') }}
    {{ in_scope('where') }}
),

responded as (
    select * from {{ ref('int_cycles_responded') }}
    {{ in_scope('where') }}
),

assignments as (
    select
        conversation_key,
        agent_id,
        team_id,
        {{ timeline_key('occurred_at', 'seq') }} as timeline_key
    from {{ ref('stg_inbox__events') }}
    where event_type = 'assignment' {{ in_scope('and') }}
),

targeted as (
    select
        cycles.cycle_id,
        cycles.conversation_key,
        cycles.conversation_id,
        cycles.resolved_at,
        cycles.resolution_kind,
        responded.clock_start_at,
        responded.first_response_at,
        responded.had_bot,
        responded.handoff_at,
        responded.is_answered,
        case
            when responded.is_business_start then {{ var('sla_business_target_seconds') }}
            else {{ var('sla_offhours_target_seconds') }}
        end as sla_target_seconds
    from cycles
    inner join responded
        on cycles.cycle_id = responded.cycle_id
),

deadlined as (
    select
        *,
        {% if var('sla_clock') == 'business' %}
        {{ add_bsec('clock_start_at', 'sla_target_seconds') }}
        {% else %}
        clock_start_at + to_seconds(sla_target_seconds)
        {% endif %} as sla_deadline_at
    from targeted
),

owned as (
    -- the owner at the deadline: the assignee then, else the team queue
    select
        deadlined.*,
        assignments.agent_id as owner_agent_id,
        assignments.team_id as owner_team_id
    from deadlined
    asof left join assignments
        on deadlined.conversation_key = assignments.conversation_key
        and {{ timeline_key('deadlined.sla_deadline_at', 9999999999999) }} >= assignments.timeline_key
),

classified as (
    select
        owned.cycle_id,
        owned.conversation_key,
        owned.conversation_id,
        owned.is_answered,
        owned.sla_target_seconds,
        owned.sla_deadline_at,
        case
            -- bot-only: the human clock never started
            when owned.had_bot and owned.handoff_at is null and not owned.is_answered
                then 'excluded'
            when owned.first_response_at <= owned.sla_deadline_at then 'met'
            when owned.resolution_kind = 'customer' and owned.resolved_at <= owned.sla_deadline_at
                then 'excluded'
            when owned.first_response_at is not null then 'breached'
            when owned.sla_deadline_at < as_of.as_of_at then 'breached'
            else 'pending'
        end as sla_status,
        coalesce(owned.owner_agent_id, 'unassigned') as sla_owner_agent_id,
        owned.owner_team_id as sla_owner_team_id,
        as_of.as_of_at,
        {{ feed_seq() }} as source_seq
    from owned
    cross join as_of
)

select * from classified
