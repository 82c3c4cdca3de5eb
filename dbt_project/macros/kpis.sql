{% macro kpi_rollup(period) -%}
{#- KPIs of docs/serving.md by period ('day' or 'week') at grains all / team / agent. Each metric
    family keeps its own date bucket and agent credit (METRICS.md section 3); rows are pooled per
    period, never averaged from smaller periods.
    Counts are added up every run from per-(date, team, agent) cells, a few small aggregates
    over the facts. The FRT/ART means and quantiles need every value, so they are the costly part: each
    period stores `source_quantile_hash`, a sum of hashes over its rows with an FRT or ART value,
    and a run recomputes them only for the periods whose hash changed (a reopen or a survey
    answer changes counts only), taking the stored figures for the others. Every run replaces
    the whole table, so it equals a full refresh however the rows got there: new events, a later
    as_of, late events moving a cycle between days. -#}
{%- set period_column = 'week_start_date' if period == 'week' else 'kpi_date' -%}
{#- Built in the warehouse, not in the serving file like the other reports: its period hashes
    are bookkeeping columns, and publish copies the table into the snapshot without them. -#}
{{
    config(
        materialized='incremental',
        unique_key=period_column,
        incremental_strategy='replace_all',
        on_schema_change='fail',
        database=target.database
    )
}}
{%- set bucket -%}
{%- if period == 'week' -%}cast(date_trunc('week', bucket_date) as date){%- else -%}bucket_date{%- endif -%}
{%- endset -%}
{%- set quantile_inputs = ['frt_s', 'frt_bs', 'art_s', 'art_bs'] -%}
{%- set quantile_columns = [
    'frt_n', 'frt_mean_seconds', 'frt_median_seconds', 'frt_p90_seconds',
    'frt_business_mean_seconds', 'frt_business_median_seconds', 'frt_business_p90_seconds',
    'art_n', 'art_mean_seconds', 'art_median_seconds', 'art_p90_seconds',
    'art_business_mean_seconds', 'art_business_median_seconds', 'art_business_p90_seconds'
] -%}
with cycles as not materialized (
    select * from {{ ref('fct_cycles') }}
),

surveys as not materialized (
    select * from {{ ref('fct_csat_responses') }}
),

leads as not materialized (
    select * from {{ ref('fct_leads') }}
),

{#- Each family's counts per (bucket date, team, credited agent), with only its own measures:
    one small aggregate per family, where pooling every family's rows first would add up all 22
    measures over 5 M rows. -#}
{%- set count_columns = [
    'cycles_opened', 'cycles_started', 'unanswered', 'resolved', 'reopened', 'sla_met',
    'sla_breached', 'sla_pending', 'sla_excluded', 'surveys_sent', 'surveys_answered', 'csat_n',
    'csat_ok', 'nps_n', 'nps_pro', 'nps_det', 'leads', 'converted', 'revenue', 'escalated',
    'reassigned'
] -%}
{%- set families = [
    {'source': 'cycles', 'date': 'opened_date', 'agent': 'first_responder_agent_id',
     'where': 'true', 'counts': {'cycles_opened': 'count(*)'}},
    {'source': 'cycles', 'date': 'clock_start_date', 'agent': 'first_responder_agent_id',
     'where': 'not is_answered and not is_bot_only', 'counts': {'unanswered': 'count(*)'}},
    {'source': 'cycles', 'date': 'clock_start_date', 'agent': 'sla_owner_agent_id',
     'where': 'true', 'counts': {
        'cycles_started': 'count(*)',
        'sla_met': "count(*) filter (where sla_status = 'met')",
        'sla_breached': "count(*) filter (where sla_status = 'breached')",
        'sla_pending': "count(*) filter (where sla_status = 'pending')",
        'sla_excluded': "count(*) filter (where sla_status = 'excluded')",
        'escalated': 'count(*) filter (where was_escalated)',
        'reassigned': 'count(*) filter (where was_reassigned)'}},
    {'source': 'cycles', 'date': 'resolved_date', 'agent': 'resolving_agent_id',
     'where': 'resolved_at is not null', 'counts': {
        'resolved': 'count(*)', 'reopened': 'count(*) filter (where is_reopened)'}},
    {'source': 'surveys', 'date': 'sent_date', 'agent': 'agent_id',
     'where': 'sent_at is not null', 'counts': {
        'surveys_sent': 'count(*)',
        'surveys_answered': 'count(*) filter (where answered_at is not null)'}},
    {'source': 'surveys', 'date': 'answered_date', 'agent': 'agent_id',
     'where': 'answered_at is not null', 'counts': {
        'csat_n': "count(*) filter (where survey_kind = 'csat')",
        'csat_ok': "count(*) filter (where survey_kind = 'csat' and is_satisfied)",
        'nps_n': "count(*) filter (where survey_kind = 'nps')",
        'nps_pro': "count(*) filter (where nps_category = 'promoter')",
        'nps_det': "count(*) filter (where nps_category = 'detractor')"}},
    {'source': 'leads', 'date': 'lead_date', 'agent': 'owner_agent_id',
     'where': 'true', 'counts': {
        'leads': 'count(*)', 'converted': 'count(*) filter (where is_converted)',
        'revenue': 'sum(cast(revenue_amount as decimal(38, 6)))'}},
] -%}
family_counts as (
    {%- for family in families %}
    {% if not loop.first %}union all by name{% endif %}
    -- {{ family['source'] }} by {{ family['date'] }}, credited to {{ family['agent'] }}
    select
        {{ family['date'] }} as bucket_date,
        team_id,
        {{ family['agent'] }} as agent_id,
        {%- for column, aggregate in family['counts'].items() %}
        {{ aggregate }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ family['source'] }}
    where {{ family['where'] }} and {{ family['date'] }} is not null
    group by all
    {%- endfor %}
),

cells as (
    -- every family's counts per (period, bucket date, team, credited agent)
    select
        {{ bucket }} as period_start,
        bucket_date,
        team_id,
        agent_id,
        {%- for column in count_columns %}
        {% if column == 'revenue' %}sum(revenue){% else %}coalesce(sum({{ column }}), 0){% endif %} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from family_counts
    group by all
),

quantile_rows as not materialized (
    -- the rows the FRT and ART means and quantiles read: FRT by clock-start date credited to
    -- the first responder, ART (is_in_art cycles) by resolution date to the resolving agent
    select
        {{ bucket }} as period_start, bucket_date, team_id, agent_id,
        {{ quantile_inputs | join(', ') }}
    from (
        select
            clock_start_date as bucket_date, team_id, first_responder_agent_id as agent_id,
            frt_seconds as frt_s, frt_business_seconds as frt_bs,
            null::double as art_s, null::double as art_bs
        from cycles
        where frt_seconds is not null or frt_business_seconds is not null
        union all
        select
            resolved_date, team_id, resolving_agent_id,
            null, null, resolution_seconds, resolution_business_seconds
        from cycles
        where is_in_art
            and (resolution_seconds is not null or resolution_business_seconds is not null)
    )
    where bucket_date is not null
),

signatures as (
    select
        period_start,
        sum(hash(bucket_date, team_id, agent_id, {{ quantile_inputs | join(', ') }}))
            as source_quantile_hash
    from quantile_rows
    group by period_start
),

{% if is_incremental() %}
stored as (
    select distinct {{ period_column }} as period_start, source_quantile_hash
    from {{ this }}
),

changed as (
    -- the periods whose FRT/ART rows changed (or are new): their figures are recomputed
    select signatures.period_start
    from signatures
    left join stored on signatures.period_start = stored.period_start
    where stored.source_quantile_hash is distinct from signatures.source_quantile_hash
),

kept_quantiles as (
    -- periods whose FRT/ART rows did not change: their stored figures stand
    select
        {{ period_column }} as period_start, grain, team_id, agent_id,
        {{ quantile_columns | join(', ') }}
    from {{ this }}
    where {{ period_column }} in (select period_start from signatures)
        and {{ period_column }} not in (select period_start from changed)
),
{% endif %}

{%- set grain_columns %}
        period_start,
        case
            when grouping(team_id) = 0 then 'team'
            when grouping(agent_id) = 0 then 'agent'
            else 'all'
        end as grain,
        case when grouping(team_id) = 0 then team_id else 'all' end as team_id,
        case when grouping(agent_id) = 0 then agent_id else 'all' end as agent_id,
{%- endset %}

rolled_quantiles as (
    select
        {{ grain_columns }}
        count(frt_s) as frt_n,
        {{ exact_mean_seconds('frt_s') }} as frt_mean_seconds,
        quantile_cont(frt_s, 0.5) as frt_median_seconds,
        quantile_cont(frt_s, 0.9) as frt_p90_seconds,
        {{ exact_mean_seconds('frt_bs') }} as frt_business_mean_seconds,
        quantile_cont(frt_bs, 0.5) as frt_business_median_seconds,
        quantile_cont(frt_bs, 0.9) as frt_business_p90_seconds,
        count(art_s) as art_n,
        {{ exact_mean_seconds('art_s') }} as art_mean_seconds,
        quantile_cont(art_s, 0.5) as art_median_seconds,
        quantile_cont(art_s, 0.9) as art_p90_seconds,
        {{ exact_mean_seconds('art_bs') }} as art_business_mean_seconds,
        quantile_cont(art_bs, 0.5) as art_business_median_seconds,
        quantile_cont(art_bs, 0.9) as art_business_p90_seconds
    from quantile_rows
    {% if is_incremental() -%}
    where period_start in (select period_start from changed)
    {% endif -%}
    group by grouping sets ((period_start), (period_start, team_id), (period_start, agent_id))
    {% if is_incremental() -%}
    union all by name
    select * from kept_quantiles
    {%- endif %}
),

rolled_sums as (
    select
        {{ grain_columns }}
        cast(sum(cycles_opened) as bigint) as cycles_opened_count,
        cast(sum(cycles_started) as bigint) as cycles_started_count,
        cast(sum(unanswered) as bigint) as unanswered_count,
        cast(sum(resolved) as bigint) as resolved_count,
        cast(sum(reopened) as bigint) as reopened_count,
        cast(sum(sla_met) as bigint) as sla_met_count,
        cast(sum(sla_breached) as bigint) as sla_breached_count,
        cast(sum(sla_pending) as bigint) as sla_pending_count,
        cast(sum(sla_excluded) as bigint) as sla_excluded_count,
        cast(sum(surveys_sent) as bigint) as surveys_sent_count,
        cast(sum(surveys_answered) as bigint) as surveys_answered_count,
        cast(sum(csat_n) as bigint) as csat_responses_count,
        cast(sum(csat_ok) as bigint) as csat_satisfied_count,
        cast(sum(nps_n) as bigint) as nps_responses_count,
        cast(sum(nps_pro) as bigint) as nps_promoters_count,
        cast(sum(nps_det) as bigint) as nps_detractors_count,
        cast(sum(leads) as bigint) as leads_count,
        cast(sum(converted) as bigint) as converted_count,
        -- decimal up to here (exact_sums.sql): the same figure in any order
        cast(sum(revenue) as double) as revenue_amount,
        cast(sum(escalated) as bigint) as escalated_count,
        cast(sum(reassigned) as bigint) as reassigned_count
    from cells
    group by grouping sets ((period_start), (period_start, team_id), (period_start, agent_id))
),

rolled as (
    -- a group with no FRT/ART row in a kept period has no stored figures: n = 0, the rest NULL
    select
        rolled_sums.*,
        coalesce(rolled_quantiles.frt_n, 0) as frt_n,
        {%- for column in quantile_columns if column not in ('frt_n', 'art_n') %}
        rolled_quantiles.{{ column }},
        {%- endfor %}
        coalesce(rolled_quantiles.art_n, 0) as art_n
    from rolled_sums
    left join rolled_quantiles
        on rolled_sums.period_start = rolled_quantiles.period_start
        and rolled_sums.grain = rolled_quantiles.grain
        and rolled_sums.team_id is not distinct from rolled_quantiles.team_id
        and rolled_sums.agent_id is not distinct from rolled_quantiles.agent_id
),

final as (
    select
        {% if period == 'week' -%}
        period_start as week_start_date,
        {{ iso_week('period_start') }} as iso_week,
        {%- else -%}
        period_start as kpi_date,
        {%- endif %}
        grain,
        team_id,
        agent_id,
        cycles_opened_count,
        cycles_started_count,
        frt_n,
        frt_mean_seconds,
        frt_median_seconds,
        frt_p90_seconds,
        frt_business_mean_seconds,
        frt_business_median_seconds,
        frt_business_p90_seconds,
        unanswered_count,
        resolved_count,
        art_n,
        art_mean_seconds,
        art_median_seconds,
        art_p90_seconds,
        art_business_mean_seconds,
        art_business_median_seconds,
        art_business_p90_seconds,
        reopened_count,
        reopened_count / nullif(resolved_count, 0) as reopen_rate,
        sla_met_count,
        sla_breached_count,
        sla_pending_count,
        sla_excluded_count,
        sla_met_count / nullif(sla_met_count + sla_breached_count, 0) as sla_compliance_rate,
        surveys_sent_count,
        surveys_answered_count,
        csat_responses_count,
        csat_satisfied_count,
        csat_satisfied_count / nullif(csat_responses_count, 0) as csat_rate,
        -- a cohort of the surveys sent in the period, so it never exceeds 1
        surveys_answered_count / nullif(surveys_sent_count, 0) as csat_response_rate,
        nps_responses_count,
        nps_promoters_count,
        nps_detractors_count,
        cast(round(
            100.0 * (nps_promoters_count - nps_detractors_count) / nullif(nps_responses_count, 0)
        ) as integer) as nps_score,
        leads_count,
        converted_count,
        converted_count / nullif(leads_count, 0) as conversion_rate,
        revenue_amount,
        escalated_count,
        reassigned_count,
        escalated_count / nullif(cycles_started_count, 0) as escalated_rate,
        reassigned_count / nullif(cycles_started_count, 0) as reassigned_rate,
        frt_n < {{ var('low_confidence_n') }} as is_low_confidence,
        coalesce(signatures.source_quantile_hash, 0) as source_quantile_hash
    from rolled
    left join signatures using (period_start)
)

select * from final
{%- endmacro %}


{% macro get_incremental_replace_all_sql(arg_dict) -%}
{#- The whole table from the new batch (kpi_rollup reads the stored rows it keeps itself). -#}
{%- set target = arg_dict['target_relation'] -%}
{%- set source = arg_dict['temp_relation'] -%}
{%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
delete from {{ target }};
insert into {{ target }} ({{ columns }})
select {{ columns }} from {{ source }}
{%- endmacro %}
