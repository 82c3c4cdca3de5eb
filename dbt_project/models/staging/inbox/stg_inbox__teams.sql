{{ config(materialized='ephemeral') }}
{#- Latest state of each team. Ephemeral: inlined into dim_teams, its only reader. -#}
with source as (
    select * from {{ source('inbox', 'inbox_events') }}
    where event_type = 'team'
),

deduplicated as (
    select * from source
    qualify row_number() over (partition by event_id order by seq) = 1
),

renamed as (
    select
        payload ->> '$.team_id' as team_id,
        payload ->> '$.name' as team_name,
        occurred_at as changed_at,
        seq
    from deduplicated
),

latest as (
    select *
    from renamed
    where team_id is not null
    qualify row_number() over (partition by team_id order by changed_at desc, seq desc) = 1
)

select * from latest
