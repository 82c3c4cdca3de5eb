{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
with deduplicated as (
    {{ new_inbox_events('tag') }}
),

parsed as (
    select
        *,
        {{ payload_fields(['tag', 'action']) }} as fields
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
        fields.tag as tag,
        fields.action as tag_action,
        occurred_at as tagged_at
    from parsed
)

select * from renamed
