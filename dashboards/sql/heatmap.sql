-- Demand (cycles opened per week) against agents replying, per local weekday and hour.
select
    weekday,
    hour,
    sum(avg_cycles_per_week) as avg_cycles_per_week,
    sum(agents_active_avg) as agents_active_avg,
    sum(cycles_opened_count) as cycles_opened_count,
    sum(sla_breached_count) as sla_breached_count
from rpt_hourly_heatmap
where $team is null or team_id = $team
group by weekday, hour
order by weekday, hour
