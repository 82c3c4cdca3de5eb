-- A cycle cannot be resolved before it opened (the resolve is ordered after its opening message).
select cycle_id, opened_at, resolved_at
from {{ ref('fct_cycles') }}
where resolved_at < opened_at
