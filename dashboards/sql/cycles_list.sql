-- Cycles for the drill-down list; an agent matches as responder, owner at deadline or resolver.
select
    cycles.cycle_id,
    cycles.conversation_id,
    cycles.clock_start_at,
    cycles.team_id,
    cycles.inbox_id,
    cycles.topic,
    cycles.tags,
    cycles.sla_status,
    cycles.sla_owner_agent_id,
    cycles.first_responder_agent_id,
    cycles.frt_seconds,
    cycles.frt_business_seconds,
    cycles.resolution_seconds,
    cycles.resolution_business_seconds,
    cycles.csat_score,
    cycles.was_escalated,
    cycles.was_reassigned,
    cycles.is_lead
from fct_cycles as cycles
where cycles.clock_start_date between $start and $end
    and ($team is null or cycles.team_id = $team)
    and (
        $agent is null
        or $agent in (
            cycles.first_responder_agent_id,
            cycles.sla_owner_agent_id,
            cycles.resolving_agent_id
        )
    )
    and ($inbox is null or cycles.inbox_id = $inbox)
    and ($tag is null or list_contains(string_split(cycles.tags, ','), $tag))
    and (not $only_breached or cycles.sla_status = 'breached')
    and ($csat_max is null or cycles.csat_score <= $csat_max)
    and (not $only_escalated or cycles.was_escalated)
    and (not $only_unanswered or not cycles.is_answered)
order by cycles.clock_start_at desc, cycles.cycle_id
limit 500
