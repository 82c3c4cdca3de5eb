{{
    config(
        materialized='incremental',
        unique_key='team_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ record_watermark() }}"
    )
}}
{#- Teams (latest team event), team ids seen in facts or in an agent's teams, and the unknown
    member 'unassigned'.
    Incremental like dim_agents: the table is its own lookup of the team ids seen so far, a run adds
    the ids of the staging rows after its watermark it does not hold yet, and a new team or agent
    event (agents list their teams) rebuilds every row. -#}
{%- set rebuild = true %}
{%- if is_incremental() %}
{%- set watermark = model_watermark() %}
{%- set rebuild = has_new_events(['team', 'agent'], watermark) %}
{%- endif %}
with seen_team_ids as (
    select distinct team_id from {{ ref('stg_inbox__events') }}
    where {{ event_type_in(['assignment', 'handoff', 'topic', 'escalation']) }}
        and team_id is not null
        {% if not rebuild %}and seq > {{ watermark }}{% endif %}
    {% if rebuild %}
    union
    select unnest(team_ids) from {{ ref('stg_inbox__agents') }}
    {% endif %}
),

{% if rebuild %}
teams as (
    select * from {{ ref('stg_inbox__teams') }}
),

known as (
    select team_id, coalesce(team_name, team_id) as team_name
    from teams
    where team_id <> 'unassigned'
),

unknown_member as (
    select 'unassigned' as team_id, 'Unassigned' as team_name
),
{% endif %}

listed as (
    {% if rebuild -%}
    select team_id from known
    {%- else -%}
    -- every stored team, known or not, and the unknown member
    select team_id from {{ this }}
    {%- endif %}
),

unknown_ids as (
    select team_id, team_id as team_name
    from seen_team_ids
    where team_id is not null
        and team_id not in (select team_id from listed)
        and team_id <> 'unassigned'
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
