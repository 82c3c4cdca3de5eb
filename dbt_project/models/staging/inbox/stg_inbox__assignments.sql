{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('assignment') }}
),

renamed as (
    select
        event_id,
        seq,
        occurred_at,
        inbox_id,
        conversation_id,
        contact_id,
        actor_kind,
        actor_id,
        nullif(payload ->> '$.agent_id', '') as agent_id,
        nullif(payload ->> '$.team_id', '') as team_id,
        nullif(payload ->> '$.previous_agent_id', '') as previous_agent_id,
        payload ->> '$.reason' as reason,
        occurred_at as assigned_at
    from deduplicated
)

select * from renamed
