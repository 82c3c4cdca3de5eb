{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('handoff') }}
),

parsed as (
    select
        *,
        {{ payload_fields(['team_id']) }} as fields
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
        nullif(fields.team_id, '') as team_id,
        occurred_at as handoff_at
    from parsed
)

select * from renamed
