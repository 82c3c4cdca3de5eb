-- SLA outcome counts per local hour of the clock start (the cycles' own sla_status).
select
    hour(clock_start_at at time zone $tz) as hour,
    count(*) filter (where sla_status = 'met') as sla_met_count,
    count(*) filter (where sla_status = 'breached') as sla_breached_count,
    count(*) filter (where sla_status = 'met')
    / nullif(count(*) filter (where sla_status in ('met', 'breached')), 0)
        as sla_compliance_rate
from fct_cycles
where clock_start_date between $start and $end
    and ($team is null or team_id = $team)
    and ($agent is null or sla_owner_agent_id = $agent)
    and ($inbox is null or inbox_id = $inbox)
    and ($tag is null or list_contains(string_split(tags, ','), $tag))
group by hour
order by hour
