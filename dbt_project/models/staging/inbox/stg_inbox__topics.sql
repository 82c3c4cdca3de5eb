{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('topic') }}
),

parsed as (
    select
        *,
        {{ payload_fields(['topic', 'team_id']) }} as fields
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
        fields.topic as topic,
        nullif(fields.team_id, '') as team_id,
        occurred_at as topic_at
    from parsed
)

select * from renamed
