-- SLA compliance per agent (owner at deadline) over a date range.
with daily as (
    select
        agent_id,
        sum(sla_met_count) as sla_met_count,
        sum(sla_breached_count) as sla_breached_count,
        sum(sla_pending_count) as sla_pending_count
    from rpt_kpis_daily
    where grain = 'agent'
        and kpi_date between $start and $end
        and ($team is null or team_id = $team)
        and ($agent is null or agent_id = $agent)
    group by agent_id
)

select
    daily.agent_id,
    coalesce(agents.agent_name, daily.agent_id) as agent_name,
    daily.sla_met_count,
    daily.sla_breached_count,
    daily.sla_pending_count,
    daily.sla_met_count / nullif(daily.sla_met_count + daily.sla_breached_count, 0)
        as sla_compliance_rate,
    daily.sla_met_count + daily.sla_breached_count < $low_n as is_low_confidence
from daily
left join dim_agents as agents on daily.agent_id = agents.agent_id
where daily.sla_met_count + daily.sla_breached_count + daily.sla_pending_count > 0
order by daily.agent_id
