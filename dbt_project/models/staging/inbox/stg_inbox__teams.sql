{{ config(materialized='ephemeral') }}
{#- Latest state of each team. Ephemeral: inlined into dim_teams, its only reader. -#}
with source as (
    -- deduplicated by event_id there
    select * from {{ ref('stg_inbox__events') }}
    where event_type = 'team'
),

renamed as (
    select
        directory_payload ->> '$.team_id' as team_id,
        directory_payload ->> '$.name' as team_name,
        occurred_at as changed_at,
        seq
    from source
),

latest as (
    select *
    from renamed
    where team_id is not null
    qualify row_number() over (partition by team_id order by changed_at desc, seq desc) = 1
)

select * from latest
