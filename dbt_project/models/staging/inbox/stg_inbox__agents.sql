{{ config(materialized='ephemeral') }}
{#- Latest state of each agent. Ephemeral: inlined into dim_agents and dim_teams, its only
    readers, so a run pays for no view node of its own (~0.25 s of dbt per node). -#}
with source as (
    -- deduplicated by event_id there
    select * from {{ ref('stg_inbox__events') }}
    where event_type = 'agent'
),

renamed as (
    select
        coalesce(directory_payload ->> '$.agent_id', actor_id) as agent_id,
        directory_payload ->> '$.name' as agent_name,
        directory_payload ->> '$.role' as agent_role,
        cast(directory_payload -> '$.team_ids' as varchar[]) as team_ids,
        cast(directory_payload -> '$.skills' as varchar[]) as skills,
        try_cast(directory_payload ->> '$.capacity' as integer) as capacity,
        coalesce(try_cast(directory_payload ->> '$.active' as boolean), true) as is_active,
        occurred_at as changed_at,
        seq
    from source
),

latest as (
    select *
    from renamed
    where agent_id is not null
    qualify row_number() over (partition by agent_id order by changed_at desc, seq desc) = 1
)

select * from latest
