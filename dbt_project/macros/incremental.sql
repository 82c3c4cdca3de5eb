{% macro feed_seq() -%}
{#- The last feed seq this build sees: stored as `source_seq` on every row an incremental model
    writes, so its next run knows which events are new. -#}
(select feed_seq from {{ ref('stg_inbox__run_as_of') }})
{%- endmacro %}

{% macro stored_max(column) -%}
{#- The largest `column` (a feed seq) this incremental model has stored, -1 when empty, as a
    literal: `seq > <literal>` lets DuckDB skip every row group of a seq-ordered table below it
    (the feed, the append-only staging tables), where `seq > (select max(...))` scans them all.
    Use only inside `is_incremental()`. -#}
{%- if execute -%}
    {%- set result = run_query('select coalesce(max(' ~ column ~ '), -1) from ' ~ this) -%}
    {{- result.columns[0].values()[0] -}}
{%- else -%}
    -1
{%- endif -%}
{%- endmacro %}

{% macro touched_conversations(with_contacts=false) -%}
{#- The conversation keys whose rows may change since this model was last built: every
    conversation with an event after the model's watermark (late and out-of-order events
    included), from int_conversations_touched. With `with_contacts`, also every conversation of
    a contact with a new lead or conversion: a conversion credits the contact's latest earlier
    lead, whichever conversation holds it. Use only inside `is_incremental()`. -#}
(
    select conversation_key from {{ ref('int_conversations_touched') }}
    {% if with_contacts %}
    union
    select cycles.conversation_key
    from {{ ref('int_cycles_opened') }} as cycles
    where cycles.contact_id in (
        select contact_id from {{ ref('stg_inbox__event_keys') }}
        where seq > {{ stored_max('source_seq') }}
            and (event_type = 'lead' or event_type = 'conversion') and contact_id is not null
        union
        select lead_cycles.contact_id
        from {{ ref('int_cycles_opened') }} as lead_cycles
        inner join {{ ref('stg_inbox__event_keys') }} as new_leads
            on lead_cycles.conversation_id = new_leads.conversation_id
        where new_leads.seq > {{ stored_max('source_seq') }} and new_leads.event_type = 'lead'
    )
    {% endif %}
)
{%- endmacro %}

{% macro scope_watermark(models, serving_models=[]) -%}
{#- The oldest watermark among `models` (their largest stored source_seq) and `serving_models`
    (model_watermark), as a literal: -1 when one of them is not built yet. -#}
{%- if not execute -%}
    {{ return(-1) }}
{%- endif -%}
{%- set watermarks = [] -%}
{%- for name in models -%}
    {%- set relation = adapter.get_relation(target.database, target.schema, name) -%}
    {%- if relation is none -%}
        {{ return(-1) }}
    {%- endif -%}
    {%- do watermarks.append(run_query(
        'select coalesce(max(source_seq), -1) from ' ~ relation
    ).columns[0].values()[0]) -%}
{%- endfor -%}
{%- for name in serving_models -%}
    {%- set relation = adapter.get_relation('serving', 'main', name) -%}
    {%- if relation is none -%}
        {{ return(-1) }}
    {%- endif -%}
    {%- do watermarks.append(run_query(
        "select coalesce(max(source_seq), -1) from serving._pipeline.watermarks "
        ~ "where model_name = '" ~ name ~ "'"
    ).columns[0].values()[0]) -%}
{%- endfor -%}
{{ return(watermarks | min) }}
{%- endmacro %}

{% macro cycles_rewritten_since(watermark) -%}
{#- The conversation keys an upstream cycle model (the int_cycles_* that fct_cycles joins) rewrote
    after `watermark`: what a mart built from their cycle rows must rewrite. -#}
{%- for model in [
    'int_cycles_opened', 'int_cycles_responded', 'int_cycles_resolved', 'int_cycles_sla',
    'int_cycles_attributed'
] %}
{% if not loop.first %}union{% endif %}
select conversation_key from {{ ref(model) }} where source_seq > {{ watermark }}
{%- endfor %}
{%- endmacro %}

{% macro in_scope(keyword='and') -%}
{#- In an incremental run, restrict a CTE to the conversations of the model's `scope` CTE. -#}
{%- if is_incremental() -%}
{{ keyword }} conversation_key in (select conversation_key from scope)
{%- endif -%}
{%- endmacro %}

{% macro model_watermark() -%}
{#- The feed seq this serving table was last built at, as a literal (-1 when never): the serving
    snapshot carries no bookkeeping columns, so its incremental tables keep their watermark in
    `_pipeline.watermarks` of the same file, written in the same transaction as their rows
    (record_watermark). A snapshot copied from the last publish therefore always holds the
    watermarks of its own rows, even after a failed run. Use only inside `is_incremental()`. -#}
{%- if execute -%}
    {%- set result = run_query(
        "select coalesce(max(source_seq), -1) from " ~ watermarks_relation()
        ~ " where model_name = '" ~ this.identifier ~ "'"
    ) -%}
    {{- result.columns[0].values()[0] -}}
{%- else -%}
    -1
{%- endif -%}
{%- endmacro %}

{% macro record_watermark() -%}
{#- Post-hook of an incremental serving table: the feed seq this build saw. -#}
insert or replace into {{ watermarks_relation() }}
select '{{ this.identifier }}', {{ feed_seq() }}, timestamptz '{{ run_started_at.isoformat() }}'
{%- endmacro %}

{% macro watermarks_relation() -%}
{{ this.database }}._pipeline.watermarks
{%- endmacro %}

{% macro create_watermarks_table() -%}
{#- on-run-start: the serving file's watermark table (see model_watermark). -#}
create schema if not exists serving._pipeline;
create table if not exists serving._pipeline.watermarks (
    model_name varchar primary key,
    source_seq bigint not null,
    -- the start of the dbt invocation that built it (dbt's run_started_at)
    built_at timestamptz not null
)
{%- endmacro %}

{% macro model_built_at() -%}
{#- The start of the dbt invocation that last built this serving table (record_watermark), as a
    timestamptz literal; -infinity when never. Use only inside `is_incremental()`. -#}
{%- if execute -%}
    {%- set result = run_query(
        "select cast(coalesce(max(built_at), timestamptz '-infinity') as varchar) from "
        ~ watermarks_relation() ~ " where model_name = '" ~ this.identifier ~ "'"
    ) -%}
    timestamptz '{{ result.columns[0].values()[0] }}'
{%- else -%}
    timestamptz '-infinity'
{%- endif -%}
{%- endmacro %}
