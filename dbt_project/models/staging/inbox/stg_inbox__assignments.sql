{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('assignment') }}
),

parsed as (
    select
        *,
        {{ payload_fields(['agent_id', 'team_id', 'previous_agent_id', 'reason']) }} as fields
    from deduplicated
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
        nullif(fields.agent_id, '') as agent_id,
        nullif(fields.team_id, '') as team_id,
        nullif(fields.previous_agent_id, '') as previous_agent_id,
        fields.reason as reason,
        occurred_at as assigned_at
    from parsed
)

select * from renamed
