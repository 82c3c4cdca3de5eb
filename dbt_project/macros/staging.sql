{#- The feed rows of one event type that this staging model has not stored yet, each event once.

    Staging models of the busiest event types are append-only: a run reads only events with a
    higher seq than any stored and skips event ids already stored, so a redelivery is counted
    once and readers never re-parse the whole feed. Called inside a staging model only (the one
    layer where source() appears).

    A redelivered event keeps its first committed copy (lowest seq). The copy is chosen on the
    narrow (event_id, seq) columns only: a window over whole rows, payload included, would sort
    gigabytes at 10 million events. -#}
{% macro new_inbox_events(event_type) %}
    with typed_events as not materialized (
        select * from {{ source('inbox', 'inbox_events') }}
        where event_type = '{{ event_type }}'
        {% if is_incremental() %}
            and seq > {{ stored_max('seq') }}
        {% endif %}
    )

    select * from typed_events
    where seq in (select min(seq) from typed_events group by event_id)
    {% if is_incremental() %}
        -- stored copies looked up from the new ids (a probe of the stored table), not the other
        -- way round (a hash table of every stored id)
        and event_id not in (
            select event_id from {{ this }}
            where event_id in (select event_id from typed_events)
        )
    {% endif %}
{% endmacro %}

{% macro payload_fields(fields) -%}
{#- The text values of the payload's top-level `fields`, as a struct: field `f` is exactly
    `payload ->> '$.f'`. One JSON parse per row: each `->>` would parse the payload again, which
    is most of a staging model's cost at 10 million events; DuckDB computes the repeated
    `json_extract_string(payload, [...])` below once per row. -#}
{%- set paths -%}
[{% for field in fields %}'$.{{ field }}'{{ ', ' if not loop.last }}{% endfor %}]
{%- endset -%}
struct_pack(
    {%- for field in fields %}
    {{ field }} :=
        json_extract_string(payload, {{ paths }})[{{ loop.index }}]{{ ',' if not loop.last }}
    {%- endfor %}
)
{%- endmacro %}
