{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('escalation') }}
),

parsed as (
    select
        *,
        {{ payload_fields([
            'level', 'waiting_since', 'agent_id', 'to_agent_id', 'team_id'
        ]) }} as fields
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
        fields.level as level,
        try_cast(fields.waiting_since as timestamptz) as waiting_since_at,
        nullif(fields.agent_id, '') as from_agent_id,
        nullif(fields.to_agent_id, '') as to_agent_id,
        nullif(fields.team_id, '') as team_id,
        occurred_at as escalated_at
    from parsed
)

select * from renamed
