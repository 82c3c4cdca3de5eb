-- SLA compliance per team over a date range: the daily counts add up exactly.
with daily as (
    select
        team_id,
        sum(sla_met_count) as sla_met_count,
        sum(sla_breached_count) as sla_breached_count,
        sum(sla_pending_count) as sla_pending_count,
        sum(sla_excluded_count) as sla_excluded_count
    from rpt_kpis_daily
    where grain = 'team'
        and kpi_date between $start and $end
        and ($team is null or team_id = $team)
    group by team_id
)

select
    daily.team_id,
    coalesce(teams.team_name, daily.team_id) as team_name,
    daily.sla_met_count,
    daily.sla_breached_count,
    daily.sla_pending_count,
    daily.sla_excluded_count,
    daily.sla_met_count / nullif(daily.sla_met_count + daily.sla_breached_count, 0)
        as sla_compliance_rate
from daily
left join dim_teams as teams on daily.team_id = teams.team_id
order by daily.team_id
