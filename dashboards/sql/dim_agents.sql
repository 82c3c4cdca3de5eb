-- Agents for the sidebar filter and for names.
select agent_id, agent_name, team_id, is_active
from dim_agents
where agent_id <> 'unassigned'
order by agent_name
