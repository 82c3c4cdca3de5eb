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
