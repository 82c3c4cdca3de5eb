{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('message_status') }}
),

parsed as (
    select
        *,
        {{ payload_fields(['message_id', 'status', 'error_code', 'error_title']) }} as fields
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
        fields.message_id as message_id,
        fields.status as status,
        fields.error_code as error_code,
        fields.error_title as error_title,
        occurred_at as status_at
    from parsed
)

select * from renamed
