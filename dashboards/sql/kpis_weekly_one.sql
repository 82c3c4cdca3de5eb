-- Every KPI row (all, team and agent grains) of one ISO week, for the weekly report.
select
    kpis.*,
    coalesce(teams.team_name, kpis.team_id) as team_name,
    coalesce(agents.agent_name, kpis.agent_id) as agent_name
from rpt_kpis_weekly as kpis
left join dim_teams as teams on kpis.team_id = teams.team_id
left join dim_agents as agents on kpis.agent_id = agents.agent_id
where kpis.iso_week = $iso_week
order by
    case kpis.grain when 'all' then 0 when 'team' then 1 else 2 end,
    kpis.team_id,
    kpis.agent_id
