-- Business time never exceeds calendar time and is never negative.
select cycle_id, frt_seconds, frt_business_seconds
from {{ ref('fct_cycles') }}
where frt_business_seconds < 0
    or frt_business_seconds > frt_seconds + 0.000001
    or resolution_business_seconds < 0
    or resolution_business_seconds > resolution_seconds + 0.000001
