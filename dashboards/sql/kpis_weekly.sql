-- Weekly KPI rows of one grain (all/team/agent) whose week starts between $start and $end.
select *
from rpt_kpis_weekly
where grain = $grain
    and ($team is null or team_id = $team)
    and ($agent is null or agent_id = $agent)
    and week_start_date between $start and $end
order by week_start_date, team_id, agent_id
