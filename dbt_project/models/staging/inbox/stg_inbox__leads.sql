{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('lead') }}
),

parsed as (
    select
        *,
        {{ payload_fields(['lead_id', 'source']) }} as fields
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
        coalesce(fields.lead_id, event_id) as lead_id,
        fields.source as lead_source,
        occurred_at as lead_at
    from parsed
)

select * from renamed
