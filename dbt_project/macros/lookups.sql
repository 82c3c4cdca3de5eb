{#- Helpers of the incremental marts that are their own lookup (dim_agents, dim_teams) or lose
    rows upstream (fct_leads). -#}

{% macro has_new_events(event_types, watermark) -%}
{#- Whether the feed holds events of `event_types` with a seq above `watermark` (a literal feed
    seq), asked when the model compiles: a model can then leave out a relation that changes only
    with those events (stg_inbox__agents: every agent event, parsed). It asks
    the feed itself (stg_inbox__event_keys is ephemeral, which a query of its own cannot read),
    so the model declares `-- depends_on: {{ source('inbox', 'inbox_events') }}` (a ref to the
    ephemeral model would only inline an unused CTE). Use only inside `is_incremental()`. -#}
{%- if execute -%}
    {%- set result = run_query(
        'select count(*) from ' ~ source('inbox', 'inbox_events')
        ~ ' where seq > ' ~ watermark ~ ' and ' ~ event_type_in(event_types)
    ) -%}
    {{- return(result.columns[0].values()[0] > 0) -}}
{%- else -%}
    {{- return(true) -}}
{%- endif -%}
{%- endmacro %}

{% macro delete_rows_missing_from(upstream, key, where=none) -%}
{#- Post-hook of an incremental mart keyed on `key`: delete the rows whose key `upstream` (its
    rows matching `where`, when given) no longer has. delete+insert only replaces the keys a run
    writes, so a row that disappears upstream (a lead that a late event made the second of its
    cycle, a breach a late reply turned into met) would stay. -#}
{%- if is_incremental() %}
delete from {{ this }}
where {{ key }} not in (
    select {{ key }} from {{ upstream }}{% if where %} where {{ where }}{% endif %}
)
{%- endif %}
{%- endmacro %}
