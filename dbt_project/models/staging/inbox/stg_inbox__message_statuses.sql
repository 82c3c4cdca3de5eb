{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('message_status') }}
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
        payload ->> '$.message_id' as message_id,
        payload ->> '$.status' as status,
        payload ->> '$.error_code' as error_code,
        payload ->> '$.error_title' as error_title,
        occurred_at as status_at
    from deduplicated
)

select * from renamed
