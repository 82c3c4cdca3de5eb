-- Lead cohorts per lead week; a cohort is provisional while younger than the window.
select
    lead_week_start_date,
    iso_week,
    sum(leads_count) as leads_count,
    sum(converted_count) as converted_count,
    sum(converted_count) / nullif(sum(leads_count), 0) as conversion_rate,
    sum(revenue_amount) as revenue_amount,
    bool_or(is_provisional) as is_provisional
from rpt_conversion_cohorts
where lead_week_start_date between $start and $end
    and ($team is null or team_id = $team)
group by lead_week_start_date, iso_week
order by lead_week_start_date
