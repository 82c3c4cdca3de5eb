with segments as not materialized (
    select * from {{ ref('int_backlog_segments') }}
),

snapshots as (
    select * from {{ ref('int_backlog_snapshot_times') }}
),

deltas as (
    -- sweep line: +1 when a segment starts, -1 when it ends, per backlog cell
    select team_id, agent_id, status, age_bucket, segment_start_at as changed_at,
        1 as conversation_delta, case when is_unattended then 1 else 0 end as unattended_delta
    from segments
    union all
    select team_id, agent_id, status, age_bucket, segment_end_at,
        -1, case when is_unattended then -1 else 0 end
    from segments
    where segment_end_at < timestamptz 'infinity'
),

net_deltas as (
    select
        team_id, agent_id, status, age_bucket, changed_at,
        sum(conversation_delta) as conversation_delta,
        sum(unattended_delta) as unattended_delta
    from deltas
    group by all
),

levels as (
    -- the count of each cell from one change to the next
    select
        team_id,
        agent_id,
        status,
        age_bucket,
        changed_at as level_from_at,
        coalesce(
            lead(changed_at) over (
                partition by team_id, agent_id, status, age_bucket order by changed_at
            ),
            timestamptz 'infinity'
        ) as level_to_at,
        sum(conversation_delta) over (
            partition by team_id, agent_id, status, age_bucket order by changed_at
            rows between unbounded preceding and current row
        ) as conversation_count,
        sum(unattended_delta) over (
            partition by team_id, agent_id, status, age_bucket order by changed_at
            rows between unbounded preceding and current row
        ) as unattended_count
    from net_deltas
),

nonzero_levels as (
    select * from levels where conversation_count > 0
),

first_snapshots as (
    -- the first snapshot at or after the level starts ...
    select nonzero_levels.*, snapshots.snapshot_number as first_number
    from nonzero_levels
    asof inner join snapshots
        on nonzero_levels.level_from_at <= snapshots.snapshot_at
),

covered as (
    -- ... and the last one before it ends: the snapshots that see this level
    select first_snapshots.*, snapshots.snapshot_number as last_number
    from first_snapshots
    asof inner join snapshots
        on first_snapshots.level_to_at > snapshots.snapshot_at
    where snapshots.snapshot_number >= first_snapshots.first_number
),

expanded as (
    select
        covered.*,
        unnest(generate_series(covered.first_number, covered.last_number)) as snapshot_number
    from covered
),

final as (
    select
        snapshots.snapshot_at,
        {{ local_date('snapshots.snapshot_at') }} as snapshot_date,
        snapshots.snapshot_kind,
        expanded.team_id,
        expanded.agent_id,
        expanded.status,
        expanded.age_bucket,
        cast(expanded.conversation_count as bigint) as conversation_count,
        cast(expanded.unattended_count as bigint) as unattended_count
    from expanded
    inner join snapshots
        on expanded.snapshot_number = snapshots.snapshot_number
)

select * from final
