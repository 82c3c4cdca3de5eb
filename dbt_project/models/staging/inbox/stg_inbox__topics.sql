with source as (
    select * from {{ source('inbox', 'inbox_events') }}
    where event_type = 'topic'
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
        payload ->> '$.topic' as topic,
        nullif(payload ->> '$.team_id', '') as team_id,
        occurred_at as topic_at
    from deduplicated
)

select * from renamed
