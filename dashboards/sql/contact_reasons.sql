-- Topics and tags per week.
select
    reasons.week_start_date,
    reasons.iso_week,
    reasons.reason_kind,
    reasons.reason,
    sum(reasons.cycles_count) as cycles_count
from rpt_contact_reasons as reasons
where reasons.week_start_date between $start and $end
    and ($team is null or reasons.team_id = $team)
group by all
order by reasons.week_start_date, reasons.reason_kind, cycles_count desc, reasons.reason
