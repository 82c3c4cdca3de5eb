{% macro source_seq() -%}
{#- The last feed seq this build sees: stored on every row an incremental cycle model writes, so
    its next run knows which events are new (seq greater than the stored maximum). -#}
(select coalesce(max(seq), 0) from {{ ref('stg_inbox__event_keys') }})
{%- endmacro %}

{% macro stored_max(column) -%}
{#- The largest `column` (a feed seq) this incremental model has stored, -1 when empty, as a
    literal: `seq > <literal>` lets DuckDB skip every row group of a seq-ordered table below it
    (the raw feed, the append-only staging tables), where `seq > (select max(...))` scans all
    25 million feed rows. Use only inside `is_incremental()`. -#}
{%- if execute -%}
    {%- set result = run_query('select coalesce(max(' ~ column ~ '), -1) from ' ~ this) -%}
    {{- result.columns[0].values()[0] -}}
{%- else -%}
    -1
{%- endif -%}
{%- endmacro %}

{% macro touched_conversations(with_contacts=true) -%}
{#- The conversations whose cycle rows may change since this model was last built: every
    conversation with an event of a higher seq than the model's stored `source_seq` (late and
    out-of-order events included). With `with_contacts`, also every conversation of a contact with
    a new lead or conversion: a conversion credits the contact's latest earlier lead, whichever
    conversation holds it. Use only inside `is_incremental()`. -#}
(
    with new_events as (
        select conversation_id, contact_id, event_type
        from {{ ref('stg_inbox__event_keys') }}
        where seq > {{ stored_max('source_seq') }}
    )
    select conversation_id from new_events where conversation_id is not null
    {% if with_contacts %}
    union
    select cycles.conversation_id
    from {{ ref('int_cycles_opened') }} as cycles
    where cycles.contact_id in (
        select contact_id from new_events
        where event_type in ('lead', 'conversion') and contact_id is not null
        union
        select lead_cycles.contact_id
        from {{ ref('int_cycles_opened') }} as lead_cycles
        inner join new_events
            on lead_cycles.conversation_id = new_events.conversation_id
        where new_events.event_type = 'lead'
    )
    {% endif %}
)
{%- endmacro %}

{% macro in_scope(keyword='and') -%}
{#- In an incremental run, restrict a CTE to the conversations of the model's `scope` CTE. -#}
{%- if is_incremental() -%}
{{ keyword }} conversation_id in (select conversation_id from scope)
{%- endif -%}
{%- endmacro %}

{% macro rewritten_conversations(models) -%}
{#- The conversations that any of `models` (incremental by conversation, each row stamped with
    its build's source_seq) rewrote after this model's stored source_seq: the scope of a mart
    built over them. Use only inside `is_incremental()`. -#}
{%- set watermark = stored_max('source_seq') -%}
{%- for model in models %}
    {% if not loop.first %}union{% endif %}
    select conversation_id from {{ ref(model) }} where source_seq > {{ watermark }}
{%- endfor %}
{%- endmacro %}
