-- Breached cycles with the owner at the deadline, most overdue first.
select
    breaches.cycle_id,
    breaches.conversation_id,
    breaches.iso_week,
    breaches.team_id,
    coalesce(teams.team_name, breaches.team_id) as team_name,
    breaches.owner_agent_id,
    coalesce(agents.agent_name, breaches.owner_agent_id) as owner_agent_name,
    breaches.topic,
    cycles.inbox_id,
    cycles.tags,
    breaches.clock_start_at,
    breaches.sla_deadline_at,
    breaches.first_response_at,
    breaches.overdue_seconds,
    breaches.is_answered
from rpt_sla_breaches as breaches
inner join fct_cycles as cycles on breaches.cycle_id = cycles.cycle_id
left join dim_teams as teams on breaches.team_id = teams.team_id
left join dim_agents as agents on breaches.owner_agent_id = agents.agent_id
where cycles.clock_start_date between $start and $end
    and ($team is null or breaches.team_id = $team)
    and ($agent is null or breaches.owner_agent_id = $agent)
    and ($inbox is null or cycles.inbox_id = $inbox)
    and ($tag is null or list_contains(string_split(cycles.tags, ','), $tag))
order by breaches.overdue_seconds desc, breaches.cycle_id
