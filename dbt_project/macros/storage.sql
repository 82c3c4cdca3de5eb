{% macro checkpoint_vacuum() -%}
{#- on-run-start: how many row-group merges ("vacuum tasks") DuckDB may do in the checkpoints of
    this build, the one at its end included. A checkpoint after any write also merges the row
    groups that inserts and deletes left part-empty, up to `max_vacuum_tasks` of them: after a
    full refresh of the 10 M-message bench, the next checkpoints spent 2-7 s each on it. The
    pipeline's every-few-minutes builds set BANDEJA_DUCKDB_VACUUM_TASKS=0; its daily build, a
    full refresh and a plain `dbt build` leave DuckDB's default. -#}
{%- set tasks = env_var('BANDEJA_DUCKDB_VACUUM_TASKS', '') -%}
{%- if tasks -%}
set global max_vacuum_tasks = {{ tasks }}
{%- else -%}
reset global max_vacuum_tasks
{%- endif %}
{%- endmacro %}
