{#- Agents from the latest agent event, plus any agent id seen in facts without one, plus the
    unknown member 'unassigned' (team queue). -#}
with agents as (
    select * from {{ ref('stg_inbox__agents') }}
),

seen_agent_ids as (
    select distinct agent_id from {{ ref('stg_inbox__messages') }} where agent_id is not null
    union
    select agent_id from {{ ref('stg_inbox__events') }}
    where {{ event_type_in(['assignment', 'escalation']) }} and agent_id is not null
    union
    select to_agent_id from {{ ref('stg_inbox__events') }}
    where event_type = 'escalation' and to_agent_id is not null
    union
    select actor_id from {{ ref('stg_inbox__events') }}
    where event_type = 'status_change' and actor_kind = 'agent' and actor_id is not null
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

unknown_ids as (
    select
        agent_id,
        agent_id as agent_name,
        'unassigned' as team_id,
        cast(null as varchar) as skills,
        cast(null as integer) as capacity,
        false as is_active
    from seen_agent_ids
    where agent_id not in (select agent_id from known) and agent_id <> 'unassigned'
),

unknown_member as (
    select
        'unassigned' as agent_id,
        'Unassigned (team queue)' as agent_name,
        'unassigned' as team_id,
        cast(null as varchar) as skills,
        cast(null as integer) as capacity,
        false as is_active
)

select * from known
union all
select * from unknown_ids
union all
select * from unknown_member
