{#- The instants the historical backlog is measured at: each hour of every open interval (from
    the opening) and each day's close, from the first cycle to as_of, numbered in order. -#}
with intervals as (
    select * from {{ ref('stg_calendar__business_intervals') }}
),

cycles as (
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
    select hourly.snapshot_at, 'hourly' as snapshot_kind
    from intervals,
        unnest(generate_series(
            intervals.open_at, intervals.close_at - interval 1 microsecond, interval 1 hour
        )) as hourly(snapshot_at)
    union all
    select close_at as snapshot_at, 'close' as snapshot_kind
    from intervals
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
