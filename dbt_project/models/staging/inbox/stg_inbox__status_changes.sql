{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('status_change') }}
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
        payload ->> '$.status' as status,
        payload ->> '$.previous_status' as previous_status,
        payload ->> '$.resolution_kind' as resolution_kind,
        try_cast(payload ->> '$.snoozed_until' as timestamptz) as snoozed_until_at,
        occurred_at as changed_at
    from deduplicated
)

select * from renamed
