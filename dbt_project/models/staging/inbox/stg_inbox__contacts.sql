with source as (
    select * from {{ source('inbox', 'inbox_events') }}
    where event_type = 'contact'
),

deduplicated as (
    select * from source
    qualify row_number() over (partition by event_id order by seq) = 1
),

renamed as (
    select
        coalesce(payload ->> '$.contact_id', contact_id) as contact_id,
        inbox_id,
        occurred_at as changed_at,
        seq
    from deduplicated
),

latest as (
    -- the current state of each contact (no names or phone numbers: those stay in the inbox)
    select
        contact_id,
        inbox_id,
        changed_at as last_changed_at
    from renamed
    where contact_id is not null
    qualify row_number() over (partition by contact_id order by changed_at desc, seq desc) = 1
)

select * from latest
