{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('survey_sent') }}
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
        payload ->> '$.message_id' as message_id,
        occurred_at as sent_at
    from deduplicated
)

select * from renamed
