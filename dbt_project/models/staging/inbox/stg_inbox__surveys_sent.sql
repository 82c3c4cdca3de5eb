{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('survey_sent') }}
),

parsed as (
    select
        *,
        {{ payload_fields(['survey_id', 'kind', 'message_id']) }} as fields
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
        fields.survey_id as survey_id,
        fields.kind as survey_kind,
        fields.message_id as message_id,
        occurred_at as sent_at
    from parsed
)

select * from renamed
