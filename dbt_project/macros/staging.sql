{#- Staging helpers: the only place source() rows are parsed. -#}

{% macro new_inbox_events(event_types) -%}
{#- The feed rows of `event_types` this append-only staging model has not stored yet: every row
    in a full build, else the rows with a higher seq than any stored (a literal watermark, so the
    scan skips the row groups below it). Duplicates are dropped with `first_new_copies()`. -#}
select * from {{ source('inbox', 'inbox_events') }}
where {{ event_type_in(event_types) }}
{% if is_incremental() %}
    and seq > {{ stored_max('seq') }}
{% endif %}
{%- endmacro %}

{% macro event_type_in(event_types) -%}
{#- `event_type` is one of `event_types`, as equalities the scan filters on: DuckDB turns a long
    IN list into a join, which reads every column of every feed row first. -#}
({% for event_type in event_types %}event_type = '{{ event_type }}'{{ ' or ' if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro first_new_copies(relation, key, key_hash) -%}
{#- The rows of `relation` (a CTE of an incremental run's new rows, with `seq`) seen for the first
    time: not a later copy of a `key` in this batch, nor a `key` stored already. The stored keys
    are probed by `key_hash`, the key's 64-bit hash stored next to it, before any string
    compares: probing the 10 M message ids themselves took 1.0 s a run, their hashes 0.1 s. A full
    build deletes its later copies in a post-hook instead (delete_later_copies). -#}
select {{ relation }}.*
from {{ relation }}
left join (
    -- the keys delivered more than once in this batch, with the seq of their first copy
    select {{ key }} as copy_key, min(seq) as first_seq
    from {{ relation }}
    group by copy_key
    having count(*) > 1
) as later_copies
    on {{ relation }}.{{ key }} = later_copies.copy_key
where (later_copies.first_seq is null or {{ relation }}.seq = later_copies.first_seq)
    and {{ relation }}.{{ key }} not in (
        select {{ key }} from {{ this }}
        where {{ key_hash }} in (select {{ key_hash }} from {{ relation }})
            and {{ key }} in (select {{ key }} from {{ relation }})
    )
{%- endmacro %}

{% macro delete_later_copies(key, key_hash) -%}
{#- Post-hook of an append-only staging model: in a full build, delete every row whose `key` a
    lower seq already has (a delivery stored twice keeps its first copy). After the load, over
    the stored keys: first their stored 64-bit hashes (`key_hash`, an integer aggregate), then
    the exact keys of the hashes seen twice, so the common case (no duplicate) never groups 10 M
    strings. An incremental run deduplicates its few new rows in its SQL instead, against the
    stored ones. (In a post-hook, is_incremental() is false in a first build too.) -#}
{%- if not is_incremental() %}
delete from {{ this }} as copies
using (
    select {{ key }}, min(seq) as first_seq
    from {{ this }}
    where {{ key_hash }} in (
        select {{ key_hash }} from {{ this }}
        group by {{ key_hash }}
        having count(*) > 1
    )
    group by {{ key }}
    having count(*) > 1
) as firsts
where copies.{{ key }} = firsts.{{ key }} and copies.seq > firsts.first_seq
{%- endif %}
{%- endmacro %}

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

{% macro payload_fields_by_type(fields_by_type) -%}
{#- Like payload_fields, for a relation holding several event types: each row extracts only
    its own type's keys (`fields_by_type`: event type -> payload keys), so a row pays for a few
    JSON paths, not for the union of every type's. Field `f` of the struct is
    `payload ->> '$.f'` on the rows whose type lists `f`, NULL on the others. -#}
{%- set positions = {} -%}
{%- for event_type, fields in fields_by_type.items() -%}
    {%- for field in fields -%}
        {%- do positions.setdefault(field, []).append((event_type, loop.index)) -%}
    {%- endfor -%}
{%- endfor -%}
struct_pack(
    {%- for field, found in positions.items() %}
    {{ field }} := case event_type
        {%- for event_type, index in found %}
        when '{{ event_type }}' then extracted[{{ index }}]
        {%- endfor %}
    end{{ ',' if not loop.last }}
    {%- endfor %}
)
{%- endmacro %}

{% macro payload_lists_by_type(fields_by_type) -%}
{#- The per-type `json_extract_string` lists payload_fields_by_type() reads (as `extracted`). -#}
case event_type
    {%- for event_type, fields in fields_by_type.items() %}
    when '{{ event_type }}' then json_extract_string(
        payload, [{% for field in fields %}'$.{{ field }}'{{ ', ' if not loop.last }}{% endfor %}]
    )
    {%- endfor %}
end
{%- endmacro %}
