{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('topic') }}
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
        payload ->> '$.topic' as topic,
        nullif(payload ->> '$.team_id', '') as team_id,
        occurred_at as topic_at
    from deduplicated
)

select * from renamed
