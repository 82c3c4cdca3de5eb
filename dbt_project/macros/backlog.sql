{% macro backlog_recount_from() -%}
{#- fct_backlog_snapshots, incremental: the first instant whose snapshots may differ from the
    stored ones, as a literal: the earliest change marker int_backlog_segments wrote after this
    table's last build (-infinity after a full build of the segments), and every snapshot after
    the last stored one (those up to the previous as_of that counted nothing, and those after
    it). Use only inside `is_incremental()`. -#}
{%- if execute -%}
    {%- set query -%}
        select cast(least(
            (
                select min(segment_start_at) from {{ ref('int_backlog_segments') }}
                where is_change_marker and marked_at > {{ model_built_at() }}
            ),
            coalesce(
                (select max(snapshot_at) from {{ this }}) + interval 1 microsecond,
                timestamptz '-infinity'
            )
        ) as varchar)
    {%- endset -%}
    timestamptz '{{ run_query(query).columns[0].values()[0] }}'
{%- else -%}
    timestamptz '-infinity'
{%- endif -%}
{%- endmacro %}

{% macro backlog_snapshot_instants() -%}
{#- Every instant the historical backlog can be measured at, from the business calendar (which
    runs 400 days past the last event): each hour of every open interval (from the opening) and
    each day's close. -#}
select hourly.snapshot_at, 'hourly' as snapshot_kind
from {{ ref('stg_calendar__business_intervals') }} as intervals,
    unnest(generate_series(
        intervals.open_at, intervals.close_at - interval 1 microsecond, interval 1 hour
    )) as hourly(snapshot_at)
union all
select close_at as snapshot_at, 'close' as snapshot_kind
from {{ ref('stg_calendar__business_intervals') }}
{%- endmacro %}
