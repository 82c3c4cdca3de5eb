{#- Incremental by time: a run deletes the snapshots from backlog_recount_from() on (the
    earliest change marker int_backlog_segments wrote since this table's last build, or the
    first snapshot after the last stored one) and those after as_of (the last snapshot time),
    and recounts the ones up to as_of from the segments that end after that instant, their
    starts clipped to it so the levels there are right. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}
            delete from {{ this }}
            where snapshot_at >= {{ backlog_recount_from() }}
                or snapshot_at > (
                    select coalesce(max(snapshot_at), timestamptz '-infinity')
                    from {{ ref('int_backlog_snapshot_times') }}
                )
            {% endif %}",
        post_hook="{{ record_watermark() }}"
    )
}}
{%- set recount_from = backlog_recount_from() if is_incremental() else none %}
with segments as not materialized (
    select
        team_id,
        agent_id,
        status,
        age_bucket,
        {% if recount_from -%}
        greatest(segment_start_at, {{ recount_from }}) as segment_start_at,
        {%- else -%}
        segment_start_at,
        {%- endif %}
        segment_end_at,
        is_unattended
    from {{ ref('int_backlog_segments') }}
    where not is_change_marker
        {% if recount_from -%}
        and segment_end_at > {{ recount_from }}
        {%- endif %}
),

snapshots as (
    select * from {{ ref('int_backlog_snapshot_times') }}
    {% if recount_from -%}
    where snapshot_at >= {{ recount_from }}
    {%- endif %}
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

cells as (
    -- one integer per backlog cell: the window below partitions on it rather than on four
    -- strings (most of this model's cost at 10 million messages)
    select
        team_id, agent_id, status, age_bucket,
        row_number() over () as cell_id
    from (select distinct team_id, agent_id, status, age_bucket from net_deltas)
),

levels as (
    -- the count of each cell from one change to the next
    select
        net_deltas.team_id,
        net_deltas.agent_id,
        net_deltas.status,
        net_deltas.age_bucket,
        net_deltas.changed_at as level_from_at,
        coalesce(
            lead(net_deltas.changed_at) over cell_timeline,
            timestamptz 'infinity'
        ) as level_to_at,
        sum(net_deltas.conversation_delta) over cell_running as conversation_count,
        sum(net_deltas.unattended_delta) over cell_running as unattended_count
    from net_deltas
    inner join cells
        on net_deltas.team_id is not distinct from cells.team_id
        and net_deltas.agent_id is not distinct from cells.agent_id
        and net_deltas.status is not distinct from cells.status
        and net_deltas.age_bucket is not distinct from cells.age_bucket
    window
        cell_timeline as (partition by cells.cell_id order by net_deltas.changed_at),
        cell_running as (
            partition by cells.cell_id order by net_deltas.changed_at
            rows between unbounded preceding and current row
        )
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
