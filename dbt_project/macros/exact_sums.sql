{#- Sums and means that do not depend on the order rows are added in. DuckDB adds doubles in
    parallel, in an order that follows how the rows lie in storage, so a plain avg() or sum()
    over doubles can differ in its last bits between an incremental run and a full refresh of
    the same events. Integers and decimals add up exactly, in any order. -#}

{% macro exact_mean_seconds(seconds) -%}
{#- The mean of a duration in seconds, added up as whole microseconds (every duration here is
    a difference of microsecond timestamps); NULL when no row has a value. -#}
(cast(sum(cast(round({{ seconds }} * 1000000) as bigint)) as double) / count({{ seconds }}) / 1000000)
{%- endmacro %}

{% macro exact_amount_sum(amount) -%}
{#- The sum of a money amount, added up as a decimal with 6 places (the amounts are rounded to
    them first); NULL when no row has an amount. -#}
cast(sum(cast({{ amount }} as decimal(38, 6))) as double)
{%- endmacro %}
