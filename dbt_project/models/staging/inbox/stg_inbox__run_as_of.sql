{{ config(materialized='table') }}
{#- One row: the instant the metrics are computed "as of", so that reruns over the same events
    give identical pending/breached and provisional flags: var as_of, else env BANDEJA_DBT_AS_OF
    (the pipeline's: an env var changes one file's parse, a var re-parses the whole project),
    else the latest event. And the last feed seq of the build (feed_seq), stamped as source_seq on
    every row an incremental model writes. A table, so each of its many readers reads one row. -#}
{%- set as_of = var('as_of', '') or env_var('BANDEJA_DBT_AS_OF', '') %}
with source as (
    select max(occurred_at) as max_occurred_at, coalesce(max(seq), 0) as max_seq
    from {{ source('inbox', 'inbox_events') }}
),

final as (
    select
        {% if as_of %}
        cast('{{ as_of }}' as timestamptz) as as_of_at,
        {% else %}
        coalesce(max_occurred_at, timestamptz '1970-01-01 00:00:00+00') as as_of_at,
        {% endif %}
        max_seq as feed_seq
    from source
)

select * from final
