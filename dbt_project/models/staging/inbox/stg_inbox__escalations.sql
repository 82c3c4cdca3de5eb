{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('escalation') }}
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
        payload ->> '$.level' as level,
        try_cast(payload ->> '$.waiting_since' as timestamptz) as waiting_since_at,
        nullif(payload ->> '$.agent_id', '') as from_agent_id,
        nullif(payload ->> '$.to_agent_id', '') as to_agent_id,
        nullif(payload ->> '$.team_id', '') as team_id,
        occurred_at as escalated_at
    from deduplicated
)

select * from renamed
