-- One row per agent for one week: the agent-grain KPIs plus reassignments taken away.
with kpis as (
    select *
    from rpt_kpis_weekly
    where grain = 'agent'
        and week_start_date = $week_start
        and ($team is null or team_id = $team)
        and ($agent is null or agent_id = $agent)
),

reassignments_lost as (
    select from_agent_id as agent_id, count(*) as reassignments_lost_count
    from fct_escalations
    where level = 'reassign'
        and escalated_date between $week_start and $week_start + interval 6 day
    group by from_agent_id
)

select
    kpis.agent_id,
    coalesce(agents.agent_name, kpis.agent_id) as agent_name,
    kpis.team_id,
    kpis.cycles_opened_count,
    kpis.frt_n,
    kpis.frt_median_seconds,
    kpis.frt_p90_seconds,
    kpis.frt_business_median_seconds,
    kpis.frt_business_p90_seconds,
    kpis.art_n,
    kpis.art_median_seconds,
    kpis.art_business_median_seconds,
    kpis.sla_met_count,
    kpis.sla_breached_count,
    kpis.sla_compliance_rate,
    kpis.csat_responses_count,
    kpis.csat_rate,
    kpis.leads_count,
    kpis.converted_count,
    kpis.conversion_rate,
    kpis.revenue_amount,
    kpis.reassigned_count,
    coalesce(reassignments_lost.reassignments_lost_count, 0) as reassignments_lost_count,
    kpis.is_low_confidence
from kpis
left join dim_agents as agents on kpis.agent_id = agents.agent_id
left join reassignments_lost on kpis.agent_id = reassignments_lost.agent_id
order by kpis.agent_id
