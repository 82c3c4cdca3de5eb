{#- The instants the historical backlog is measured at: each hour of every open interval (from
    the opening) and each day's close, from the first cycle to as_of, numbered in order. -#}
with cycles as (
    select opened_at from {{ ref('int_cycles_opened') }}
),

as_of as (
    select as_of_at from {{ ref('stg_inbox__run_as_of') }}
),

bounds as (
    select min(cycles.opened_at) as first_at, any_value(as_of.as_of_at) as last_at
    from cycles
    cross join as_of
),

snapshot_times as (
    {{ backlog_snapshot_instants() }}
),

numbered as (
    select
        snapshot_times.snapshot_at,
        snapshot_times.snapshot_kind,
        row_number() over (order by snapshot_times.snapshot_at, snapshot_times.snapshot_kind)
            as snapshot_number
    from snapshot_times
    cross join bounds
    where snapshot_times.snapshot_at >= bounds.first_at
        and snapshot_times.snapshot_at <= bounds.last_at
)

select * from numbered
