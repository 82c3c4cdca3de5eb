{#- Bucketing many instants by local hour (business timezone) without converting each one: the
    timezone conversion costs ~0.2 µs a row, most of the cost of a heatmap over millions of
    rows. A model converts each distinct UTC hour once (local_hours) and gives each row the local
    hour of its UTC hour (local_hour_at). -#}

{% macro utc_hour_key(at) -%}
{#- The UTC hour of `at`, as whole hours since 1970 (floored, so instants before 1970 too). -#}
cast(floor(epoch_us({{ at }}) / 3600000000) as bigint)
{%- endmacro %}

{% macro local_hours(relation, columns) -%}
{#- One row per UTC hour of the instants in `columns` of `relation`: `hour_key` (utc_hour_key)
    and `local_hour_at`, the local hour (a TIMESTAMP) the whole UTC hour falls in: NULL when the
    hour is split, by an offset change inside it or an offset that is not whole hours, so its rows
    are converted one by one. -#}
with hour_keys as (
    -- distinct: each hour once, so a join on hour_key keeps one row per instant
    select distinct hour_key from (
        {%- for at in columns %}
        select {{ utc_hour_key(at) }} as hour_key from {{ relation }}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    )
),

ends as (
    select
        hour_key,
        timezone(
            '{{ var("business_timezone") }}', make_timestamptz(hour_key * 3600000000)
        ) as local_first,
        timezone(
            '{{ var("business_timezone") }}', make_timestamptz(hour_key * 3600000000 + 3599999999)
        ) as local_last
    from hour_keys
)

select
    hour_key,
    case
        -- one UTC offset through the hour (its last microsecond is 3 599 999 999 µs after the
        -- first, locally too), and that offset puts its start on a local hour
        when local_last - local_first = to_microseconds(3599999999)
            and date_trunc('hour', local_first) = local_first
            then local_first
    end as local_hour_at
from ends
{%- endmacro %}

{% macro local_hour_at(at, hours) -%}
{#- The local hour (a TIMESTAMP truncated to the hour) of `at`, from its UTC hour's row of the
    local_hours() relation `hours` (left-joined on utc_hour_key), else converted on its own. -#}
coalesce(
    {{ hours }}.local_hour_at,
    date_trunc('hour', timezone('{{ var("business_timezone") }}', {{ at }}))
)
{%- endmacro %}
