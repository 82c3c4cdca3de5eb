{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('survey_answer') }}
),

parsed as (
    select
        *,
        {{ payload_fields(['survey_id', 'kind', 'score']) }} as fields
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
        try_cast(fields.score as integer) as score,
        occurred_at as answered_at
    from parsed
)

select * from renamed
