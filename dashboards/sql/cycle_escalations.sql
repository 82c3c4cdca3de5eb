-- The alerts and reassignments of one cycle in order.
select escalation_id, level, escalated_at, waiting_since_at, from_agent_id, to_agent_id, team_id
from fct_escalations
where cycle_id = $cycle_id
order by escalated_at, escalation_id
