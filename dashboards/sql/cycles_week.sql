-- One row per cycle whose clock started in the report week, with its metrics.
select *
from fct_cycles
where clock_start_date between $week_start and $week_start + interval 6 day
order by clock_start_at, cycle_id
