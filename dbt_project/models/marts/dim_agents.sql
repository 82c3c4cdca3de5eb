{{
    config(
        materialized='incremental',
        unique_key='agent_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ record_watermark() }}"
    )
}}
{#- Agents from the latest agent event, plus any agent id seen in facts without one, plus the
    unknown member 'unassigned' (team queue).
    Incremental: the table is its own lookup of the agent ids seen so far, so a run reads only the
    staging rows after its watermark (the scans skip older row groups) and adds the ids it does
    not hold yet. A new agent event (a rename, a team or skill change) rebuilds every row from
    stg_inbox__agents (each agent's latest event); the ids seen never disappear, so a rebuild
    rewrites every stored row. -#}
{%- set rebuild = true %}
{%- if is_incremental() %}
{%- set watermark = model_watermark() %}
{%- set rebuild = has_new_events(['agent'], watermark) %}
{%- endif %}
{%- set new_rows_only %}{% if not rebuild %}and seq > {{ watermark }}{% endif %}{% endset %}
with seen_agent_ids as (
    select agent_id from {{ ref('stg_inbox__messages') }}
    where agent_id is not null {{ new_rows_only }}
    union
    select agent_id from {{ ref('stg_inbox__events') }}
    where {{ event_type_in(['assignment', 'escalation']) }} and agent_id is not null
        {{ new_rows_only }}
    union
    select to_agent_id from {{ ref('stg_inbox__events') }}
    where event_type = 'escalation' and to_agent_id is not null {{ new_rows_only }}
    union
    select actor_id from {{ ref('stg_inbox__events') }}
    where event_type = 'status_change' and actor_kind = 'agent' and actor_id is not null
        {{ new_rows_only }}
),

{% if rebuild %}
agents as (
    select * from {{ ref('stg_inbox__agents') }}
),

known as (
    select
        agent_id,
        coalesce(agent_name, agent_id) as agent_name,
        coalesce(team_ids[1], 'unassigned') as team_id,
        array_to_string(list_sort(skills), ',') as skills,
        capacity,
        is_active
    from agents
    where agent_id <> 'unassigned'
),

unknown_member as (
    select
        'unassigned' as agent_id,
        'Unassigned (team queue)' as agent_name,
        'unassigned' as team_id,
        cast(null as varchar) as skills,
        cast(null as integer) as capacity,
        false as is_active
),
{% endif %}

listed as (
    {% if rebuild -%}
    select agent_id from known
    {%- else -%}
    -- every stored agent, known or not, and the unknown member
    select agent_id from {{ this }}
    {%- endif %}
),

unknown_ids as (
    select
        agent_id,
        agent_id as agent_name,
        'unassigned' as team_id,
        cast(null as varchar) as skills,
        cast(null as integer) as capacity,
        false as is_active
    from seen_agent_ids
    where agent_id not in (select agent_id from listed) and agent_id <> 'unassigned'
)

{% if rebuild -%}
select * from known
union all
select * from unknown_ids
union all
select * from unknown_member
{%- else -%}
select * from unknown_ids
{%- endif %}
