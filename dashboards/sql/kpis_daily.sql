-- Daily KPI rows of one grain between two local dates (trend lines).
select *
from rpt_kpis_daily
where grain = $grain
    and ($team is null or team_id = $team)
    and ($agent is null or agent_id = $agent)
    and kpi_date between $start and $end
order by kpi_date, team_id, agent_id
