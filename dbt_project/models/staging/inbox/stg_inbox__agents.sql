{{ config(materialized='ephemeral') }}
{#- Latest state of each agent. Ephemeral: inlined into dim_agents and dim_teams, its only
    readers, so a run pays for no view node of its own (~0.25 s of dbt per node). -#}
with source as (
    select * from {{ source('inbox', 'inbox_events') }}
    where event_type = 'agent'
),

deduplicated as (
    select * from source
    qualify row_number() over (partition by event_id order by seq) = 1
),

renamed as (
    select
        coalesce(payload ->> '$.agent_id', actor_id) as agent_id,
        payload ->> '$.name' as agent_name,
        payload ->> '$.role' as agent_role,
        cast(payload -> '$.team_ids' as varchar[]) as team_ids,
        cast(payload -> '$.skills' as varchar[]) as skills,
        try_cast(payload ->> '$.capacity' as integer) as capacity,
        coalesce(try_cast(payload ->> '$.active' as boolean), true) as is_active,
        occurred_at as changed_at,
        seq
    from deduplicated
),

latest as (
    select *
    from renamed
    where agent_id is not null
    qualify row_number() over (partition by agent_id order by changed_at desc, seq desc) = 1
)

select * from latest
