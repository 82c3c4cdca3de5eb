{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('conversion') }}
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
        coalesce(payload ->> '$.conversion_id', event_id) as conversion_id,
        payload ->> '$.kind' as conversion_kind,
        try_cast(payload ->> '$.amount' as double) as amount,
        payload ->> '$.currency' as currency,
        payload ->> '$.source' as conversion_source,
        payload ->> '$.external_id' as external_id,
        occurred_at as converted_at
    from deduplicated
)

select * from renamed
