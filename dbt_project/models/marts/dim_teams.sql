with teams as (
    select * from {{ ref('stg_inbox__teams') }}
),

seen_team_ids as (
    select distinct team_id from {{ ref('stg_inbox__events') }}
    where {{ event_type_in(['assignment', 'handoff', 'topic', 'escalation']) }}
        and team_id is not null
    union
    select unnest(team_ids) from {{ ref('stg_inbox__agents') }}
),

known as (
    select team_id, coalesce(team_name, team_id) as team_name
    from teams
    where team_id <> 'unassigned'
),

unknown_ids as (
    select team_id, team_id as team_name
    from seen_team_ids
    where team_id is not null
        and team_id not in (select team_id from known)
        and team_id <> 'unassigned'
),

unknown_member as (
    select 'unassigned' as team_id, 'Unassigned' as team_name
)

select * from known
union all
select * from unknown_ids
union all
select * from unknown_member
