{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('status_change') }}
),

parsed as (
    select
        *,
        {{ payload_fields([
            'status', 'previous_status', 'resolution_kind', 'snoozed_until'
        ]) }} as fields
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
        fields.status as status,
        fields.previous_status as previous_status,
        fields.resolution_kind as resolution_kind,
        try_cast(fields.snoozed_until as timestamptz) as snoozed_until_at,
        occurred_at as changed_at
    from parsed
)

select * from renamed
