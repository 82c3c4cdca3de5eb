-- Topics and tags of one ISO week per team, for the weekly report.
select iso_week, team_id, reason_kind, reason, cycles_count
from rpt_contact_reasons
where iso_week = $iso_week
order by reason_kind, cycles_count desc, reason, team_id
