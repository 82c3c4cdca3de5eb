{#-
  The business clock of METRICS.md section 1 as set-based SQL.

  A model that uses `bsec`, `add_bsec` or `is_business` starts its WITH clause with
  `{{ business_clock_ctes() }},`. Those CTEs turn the open intervals into a per-local-date table
  with the cumulative business microseconds before each interval, so that
  bsec(a, b) = cum(b) - cum(a). Every lookup is an equality on the local date (or on an hour
  bucket of the cumulative axis for add_bsec), which DuckDB decorrelates into hash joins: no
  per-row scans of the calendar, no matter how many cycles.
-#}

{% macro business_clock_ctes() -%}
business_clock_intervals as (
    select
        local_date,
        open_at,
        close_at,
        epoch_us(close_at) - epoch_us(open_at) as interval_us
    from {{ ref('stg_calendar__business_intervals') }}
),

business_clock_cumulated as (
    select
        *,
        cast(coalesce(
            sum(interval_us) over (
                order by open_at rows between unbounded preceding and 1 preceding
            ),
            0
        ) as bigint) as cum_before_open_us
    from business_clock_intervals
),

business_clock_spine as (
    select cast(spine_day as date) as local_date
    from generate_series(
        (select min(local_date) from business_clock_intervals),
        (select max(local_date) from business_clock_intervals),
        interval 1 day
    ) as spine(spine_day)
),

business_clock_day_starts as (
    -- cumulative business time before each local date, closed days included
    select
        spine.local_date,
        cast(coalesce(
            sum(coalesce(day_totals.day_us, 0)) over (
                order by spine.local_date rows between unbounded preceding and 1 preceding
            ),
            0
        ) as bigint) as cum_before_day_us
    from business_clock_spine as spine
    left join (
        select local_date, sum(interval_us) as day_us
        from business_clock_intervals
        group by local_date
    ) as day_totals
        on spine.local_date = day_totals.local_date
),

business_clock_days as (
    select
        day_starts.local_date,
        day_starts.cum_before_day_us,
        intervals.open_at,
        intervals.close_at,
        intervals.interval_us
    from business_clock_day_starts as day_starts
    left join business_clock_intervals as intervals
        on day_starts.local_date = intervals.local_date
),

business_clock_buckets as (
    -- each interval listed under every hour bucket of the cumulative axis it overlaps
    select
        cumulated.open_at,
        cumulated.cum_before_open_us,
        cumulated.interval_us,
        bucket
    from business_clock_cumulated as cumulated,
        unnest(generate_series(
            cumulated.cum_before_open_us // 3600000000,
            (cumulated.cum_before_open_us + cumulated.interval_us) // 3600000000
        )) as buckets(bucket)
)
{%- endmacro %}

{% macro local_date(t) -%}
cast(timezone('{{ var("business_timezone") }}', {{ t }}) as date)
{%- endmacro %}

{% macro business_cum_us(t) -%}
(
    select
        any_value(clock_day.cum_before_day_us)
        + cast(coalesce(sum(least(
            greatest(epoch_us({{ t }}) - epoch_us(clock_day.open_at), 0),
            clock_day.interval_us
        )), 0) as bigint)
    from business_clock_days as clock_day
    where clock_day.local_date = {{ local_date(t) }}
)
{%- endmacro %}

{% macro bsec(a, b) -%}
(case
    when ({{ b }}) >= ({{ a }})
        then ({{ business_cum_us(b) }} - {{ business_cum_us(a) }}) / 1000000.0
end)
{%- endmacro %}

{% macro is_business(t) -%}
coalesce((
    select bool_or({{ t }} >= clock_day.open_at and {{ t }} < clock_day.close_at)
    from business_clock_days as clock_day
    where clock_day.local_date = {{ local_date(t) }}
), false)
{%- endmacro %}

{% macro add_bsec(t, s) -%}
{%- set target_us -%}
({{ business_cum_us(t) }} + cast(round(({{ s }}) * 1000000) as bigint))
{%- endset -%}
(case when ({{ s }}) is not null then greatest({{ t }}, (
    select any_value(
        clock_bucket.open_at
        + to_microseconds({{ target_us }} - clock_bucket.cum_before_open_us)
    )
    from business_clock_buckets as clock_bucket
    where clock_bucket.bucket = {{ target_us }} // 3600000000
        and clock_bucket.cum_before_open_us < {{ target_us }}
        and {{ target_us }} <= clock_bucket.cum_before_open_us + clock_bucket.interval_us
)) end)
{%- endmacro %}

{% macro calendar_seconds(a, b) -%}
((epoch_us({{ b }}) - epoch_us({{ a }})) / 1000000.0)
{%- endmacro %}

{% macro as_of_at() -%}
(select as_of_at from {{ ref('stg_inbox__run_as_of') }})
{%- endmacro %}

{% macro iso_week(week_start) -%}
strftime({{ week_start }}, '%G-W%V')
{%- endmacro %}

{% macro timeline_key(at, seq) -%}
{#- One sortable key for the (occurred_at, seq) order of docs/events.md, usable by ASOF joins. -#}
(cast(epoch_us({{ at }}) as hugeint) * 10000000000000 + {{ seq }})
{%- endmacro %}
