-- Backlog at the last end-of-day snapshot of each local week (open, pending and snoozed apart).
with closes as (
    select
        cast(date_trunc('week', snapshot_date) as date) as week_start_date,
        snapshot_at,
        status,
        conversation_count,
        unattended_count
    from fct_backlog_snapshots
    where snapshot_kind = 'close'
        and snapshot_date between $start and $end
        and ($team is null or team_id = $team)
        and ($agent is null or agent_id = $agent)
),

last_close_per_week as (
    select week_start_date, max(snapshot_at) as snapshot_at
    from closes
    group by week_start_date
)

select
    closes.week_start_date,
    closes.snapshot_at,
    coalesce(sum(closes.conversation_count) filter (where closes.status = 'open'), 0)
        as open_count,
    coalesce(sum(closes.unattended_count) filter (where closes.status = 'open'), 0)
        as unattended_count,
    coalesce(sum(closes.conversation_count) filter (where closes.status = 'pending'), 0)
        as pending_count,
    coalesce(sum(closes.conversation_count) filter (where closes.status = 'snoozed'), 0)
        as snoozed_count
from closes
inner join last_close_per_week
    on closes.week_start_date = last_close_per_week.week_start_date
    and closes.snapshot_at = last_close_per_week.snapshot_at
group by closes.week_start_date, closes.snapshot_at
order by closes.week_start_date
