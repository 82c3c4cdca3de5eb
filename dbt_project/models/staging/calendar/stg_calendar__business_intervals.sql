with source as (
    select * from {{ source('calendar', 'business_intervals') }}
),

renamed as (
    select
        cast(local_date as date) as local_date,
        cast(open_at as timestamptz) as open_at,
        cast(close_at as timestamptz) as close_at
    from source
    where close_at > open_at
)

select * from renamed
