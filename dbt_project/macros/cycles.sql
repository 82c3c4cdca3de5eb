{% macro with_cycle_id(relation, scoped=false, cycle_columns={}, related_only=false) -%}
{#- Attach to each event of `relation` (with conversation_key, occurred_at and seq) the care
    cycle it belongs to: the latest cycle of its conversation opened at or before it in
    (occurred_at, seq) order (NULL before the first cycle), and its timeline_key.
    `cycle_columns` (alias -> int_cycles_opened column) adds columns of that cycle. With
    `scoped`, only the cycles of the model's `scope` CTE are read (in an incremental run); with
    `related_only`, only those of the conversations in `relation`, for a relation that holds a
    few of them (the ASOF join sorts every cycle it reads). -#}
{%- set scope_filter = in_scope('where') if scoped else '' %}
select
    keyed.*,
    cycles.cycle_id
    {%- for alias, column in cycle_columns.items() %},
    cycles.{{ column }} as {{ alias }}
    {%- endfor %}
from (
    select *, {{ timeline_key('occurred_at', 'seq') }} as timeline_key
    from {{ relation }}
) as keyed
asof left join (
    select
        cycle_id,
        conversation_key,
        opening_key
        {%- for column in cycle_columns.values() %},
        {{ column }}
        {%- endfor %}
    from {{ ref('int_cycles_opened') }}
    {{ scope_filter }}
    {% if related_only -%}
    {{ 'and' if scope_filter else 'where' }} conversation_key in (
        select conversation_key from {{ relation }}
    )
    {%- endif %}
) as cycles
    on keyed.conversation_key = cycles.conversation_key
    and keyed.timeline_key >= cycles.opening_key
{%- endmacro %}

{% macro cycle_openings(scoped=false) -%}
{#- One row per conversation with its cycles' opening keys in cycle order (and the md5 of its
    contact): with cycle_number() below, events find their cycle through a hash join on the
    conversation, which streams them, instead of an ASOF join, which sorts every event with all
    its columns (10 M messages: 2 s against 15 s). -#}
select
    conversation_key,
    list(opening_key order by cycle_number) as opening_keys,
    md5(any_value(contact_id)) as contact_hash
from {{ ref('int_cycles_opened') }}
{% if scoped %}{{ in_scope('where') }}{% endif %}
group by conversation_key
{%- endmacro %}

{% macro cycle_number(opening_keys, timeline_key) -%}
{#- The number of the cycle an event at `timeline_key` belongs to (0 before the first): how many
    of its conversation's cycles opened at or before it. -#}
len(list_filter({{ opening_keys }}, lambda opening_key: opening_key <= {{ timeline_key }}))
{%- endmacro %}
