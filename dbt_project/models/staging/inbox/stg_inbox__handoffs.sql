{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail'
    )
}}
{#- Appends only events with a higher seq than any stored, skipping stored event ids (a
    redelivery is still counted once), so readers never re-parse the whole feed. -#}
with source as (
    select * from {{ source('inbox', 'inbox_events') }}
    where event_type = 'handoff'
    {% if is_incremental() %}
        and seq > (select coalesce(max(seq), -1) from {{ this }})
        and event_id not in (select event_id from {{ this }})
    {% endif %}
),

deduplicated as (
    -- a redelivered event keeps its first committed copy
    select * from source
    qualify row_number() over (partition by event_id order by seq) = 1
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
        nullif(payload ->> '$.team_id', '') as team_id,
        occurred_at as handoff_at
    from deduplicated
)

select * from renamed
