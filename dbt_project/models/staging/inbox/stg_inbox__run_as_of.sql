{#- One row: the instant the metrics are computed "as of" (var as_of, else the latest event),
    so that reruns over the same events give identical pending/breached and provisional flags. -#}
with source as (
    select max(occurred_at) as max_occurred_at
    from {{ source('inbox', 'inbox_events') }}
),

final as (
    select
        {% if var('as_of', '') %}
        cast('{{ var("as_of") }}' as timestamptz) as as_of_at
        {% else %}
        coalesce(max_occurred_at, timestamptz '1970-01-01 00:00:00+00') as as_of_at
        {% endif %}
    from source
)

select * from final
