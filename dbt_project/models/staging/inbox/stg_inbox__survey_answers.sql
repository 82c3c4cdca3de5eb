{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('survey_answer') }}
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
        payload ->> '$.survey_id' as survey_id,
        payload ->> '$.kind' as survey_kind,
        try_cast(payload ->> '$.score' as integer) as score,
        occurred_at as answered_at
    from deduplicated
)

select * from renamed
