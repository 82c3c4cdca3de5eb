select
    local_date,
    open_at,
    close_at
from {{ ref('stg_calendar__business_intervals') }}
