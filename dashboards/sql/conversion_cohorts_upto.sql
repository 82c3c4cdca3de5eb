-- The cohorts of the report week and the weeks before it, per team.
select *
from rpt_conversion_cohorts
where lead_week_start_date between $week_start - interval 7 week and $week_start
order by lead_week_start_date, team_id
