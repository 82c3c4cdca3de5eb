{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
{#- Contact changes, one row per event (ids only: names and phone numbers stay in the inbox).
    Append-only like the other event types, so no run re-reads the payloads of the whole feed;
    dim_contacts takes each contact's latest state. -#}
with deduplicated as (
    {{ new_inbox_events('contact') }}
),

parsed as (
    select
        *,
        {{ payload_fields(['contact_id']) }} as fields
    from deduplicated
),

renamed as (
    select
        event_id,
        seq,
        coalesce(fields.contact_id, contact_id) as contact_id,
        inbox_id,
        occurred_at as changed_at
    from parsed
)

select * from renamed
