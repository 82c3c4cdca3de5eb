{#- Helpers of the incremental marts that are their own lookup (dim_agents, dim_teams) or lose
    rows upstream (fct_leads). -#}

{% macro has_new_events(event_types, watermark) -%}
{#- Whether stg_inbox__events holds events of `event_types` with a seq above `watermark` (a
    literal feed seq), asked when the model compiles: a model can then leave out a relation that
    changes only with those events (stg_inbox__agents: every agent event, parsed). The model refs
    stg_inbox__events, so the table is built when this runs; a `seq >` literal skips its older
    row groups. Use only inside `is_incremental()`. -#}
{%- if execute -%}
    {%- set result = run_query(
        'select count(*) from ' ~ ref('stg_inbox__events')
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
