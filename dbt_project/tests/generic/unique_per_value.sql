{% test unique_per_value(model, column_name, value) %}
{#- Every value of `column_name` maps to one `value`: a hash key (conversation_key) never stands
    for two ids, which would merge their events in the ASOF joins and windows keyed on it. -#}
select {{ column_name }}, count(distinct {{ value }}) as value_count
from {{ model }}
group by {{ column_name }}
having count(distinct {{ value }}) > 1
{% endtest %}
