select week_start_date, grain, team_id, agent_id, nps_score
from {{ ref('rpt_kpis_weekly') }}
where nps_score not between -100 and 100
