{% macro with_cycle_id(relation) -%}
{#- Attach to each event the care cycle it belongs to: the latest cycle of its conversation
    opened at or before it in (occurred_at, seq) order (NULL before the first cycle). -#}
select
    keyed.*,
    cycles.cycle_id
from (
    select *, {{ timeline_key('occurred_at', 'seq') }} as timeline_key
    from {{ relation }}
) as keyed
asof left join (
    select cycle_id, conversation_id, opening_key from {{ ref('int_cycles_opened') }}
) as cycles
    on keyed.conversation_id = cycles.conversation_id
    and keyed.timeline_key >= cycles.opening_key
{%- endmacro %}
