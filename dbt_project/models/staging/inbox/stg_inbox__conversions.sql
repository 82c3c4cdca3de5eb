{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('conversion') }}
),

parsed as (
    select
        *,
        {{ payload_fields([
            'conversion_id', 'kind', 'amount', 'currency', 'source', 'external_id'
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
        coalesce(fields.conversion_id, event_id) as conversion_id,
        fields.kind as conversion_kind,
        try_cast(fields.amount as double) as amount,
        fields.currency as currency,
        fields.source as conversion_source,
        fields.external_id as external_id,
        occurred_at as converted_at
    from parsed
)

select * from renamed
