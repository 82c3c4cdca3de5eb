{% macro kpi_rollup(period) -%}
{#- KPIs of docs/serving.md by period ('day' or 'week') at grains all / team / agent. Each metric
    family keeps its own date bucket and agent credit (METRICS.md section 3); rows are pooled per
    period, never averaged from smaller periods.
    Incremental by period: every row stores its period's `source_hash`, a sum of hashes over the
    period's family rows (the rollup's whole input, plus var low_confidence_n), and
    `source_quantile_hash` over the rows with an FRT or ART value. A run recomputes only the
    periods whose hash changed (their FRT/ART means and quantiles only when that second hash
    changed too: a reopen or a survey answer changes counts only), and deletes the periods that
    lost every row (a NULL-grain tombstone, see get_incremental_replace_periods_sql), so it equals
    a full refresh however the rows got there: new events, a later as_of, late events moving a
    cycle between days. -#}
{%- set period_column = 'week_start_date' if period == 'week' else 'kpi_date' -%}
{#- Built in the warehouse, not in the serving file like the other reports: its period hashes
    are bookkeeping columns, and publish copies the table into the snapshot without them. -#}
{{
    config(
        materialized='incremental',
        unique_key=period_column,
        incremental_strategy='replace_periods',
        on_schema_change='fail',
        database=target.database
    )
}}
{%- set bucket -%}
{%- if period == 'week' -%}cast(date_trunc('week', bucket_date) as date){%- else -%}bucket_date{%- endif -%}
{%- endset -%}
{%- set family_columns = [
    'bucket_date', 'team_id', 'agent_id', 'cycles_opened', 'cycles_started', 'frt_s', 'frt_bs',
    'unanswered', 'resolved', 'art_s', 'art_bs', 'reopened', 'sla_met', 'sla_breached',
    'sla_pending', 'sla_excluded', 'escalated', 'reassigned', 'surveys_sent', 'csat_n', 'csat_ok',
    'nps_n', 'nps_pro', 'nps_det', 'leads', 'converted', 'revenue', 'surveys_answered'
] -%}
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

family_rows as not materialized (
    select
        opened_date as bucket_date, team_id, first_responder_agent_id as agent_id,
        1 as cycles_opened, 0 as cycles_started,
        null::double as frt_s, null::double as frt_bs, 0 as unanswered,
        0 as resolved, null::double as art_s, null::double as art_bs, 0 as reopened,
        0 as sla_met, 0 as sla_breached, 0 as sla_pending, 0 as sla_excluded,
        0 as escalated, 0 as reassigned,
        0 as surveys_sent, 0 as csat_n, 0 as csat_ok, 0 as nps_n, 0 as nps_pro, 0 as nps_det,
        0 as leads, 0 as converted, null::double as revenue,
        0 as surveys_answered
    from cycles
    union all
    -- FRT: clock-start date, credited to the agent who wrote the first reply
    select
        clock_start_date, team_id, first_responder_agent_id,
        0, 0,
        frt_seconds, frt_business_seconds,
        case when not is_answered and not is_bot_only then 1 else 0 end,
        0, null, null, 0,
        0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, null, 0
    from cycles
    union all
    -- SLA and escalation: clock-start date, credited to the owner at the deadline
    select
        clock_start_date, team_id, sla_owner_agent_id,
        0, 1,
        null, null, 0,
        0, null, null, 0,
        (sla_status = 'met')::int, (sla_status = 'breached')::int,
        (sla_status = 'pending')::int, (sla_status = 'excluded')::int,
        was_escalated::int, was_reassigned::int,
        0, 0, 0, 0, 0, 0, 0, 0, null, 0
    from cycles
    union all
    -- ART: resolution date, credited to the resolving agent
    select
        resolved_date, team_id, resolving_agent_id,
        0, 0,
        null, null, 0,
        1,
        case when is_in_art then resolution_seconds end,
        case when is_in_art then resolution_business_seconds end,
        is_reopened::int,
        0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, null, 0
    from cycles
    where resolved_at is not null
    union all
    -- surveys sent: sent date; answers: answer date; both credited to the resolving agent
    select
        sent_date, team_id, agent_id,
        0, 0, null, null, 0, 0, null, null, 0, 0, 0, 0, 0, 0, 0,
        1, 0, 0, 0, 0, 0, 0, 0, null, (answered_at is not null)::int
    from surveys
    where sent_at is not null
    union all
    select
        answered_date, team_id, agent_id,
        0, 0, null, null, 0, 0, null, null, 0, 0, 0, 0, 0, 0, 0,
        0,
        (survey_kind = 'csat')::int,
        (survey_kind = 'csat' and is_satisfied)::int,
        (survey_kind = 'nps')::int,
        (nps_category = 'promoter')::int,
        (nps_category = 'detractor')::int,
        0, 0, null, 0
    from surveys
    where answered_at is not null
    union all
    -- conversion: lead date, credited to the owner at lead time
    select
        lead_date, team_id, owner_agent_id,
        0, 0, null, null, 0, 0, null, null, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0,
        1, is_converted::int, revenue_amount, 0
    from leads
),

bucketed as not materialized (
    select {{ bucket }} as period_start, *
    from family_rows
    where bucket_date is not null
),

signatures as (
    -- source_hash: the whole input of a period; quantile_hash: the rows the FRT and ART means and
    -- quantiles read, the costly part (a reopen or a survey changes counts only)
    select
        period_start,
        sum(hash({{ family_columns | join(', ') }}, {{ var('low_confidence_n') }}))
            as source_hash,
        coalesce(
            sum(hash(bucket_date, team_id, agent_id, {{ quantile_inputs | join(', ') }}))
                filter (where {{ quantile_inputs | join(' is not null or ') }} is not null),
            0
        ) as source_quantile_hash
    from bucketed
    group by period_start
),

{% if is_incremental() %}
stored as (
    select distinct
        {{ period_column }} as period_start, source_hash, source_quantile_hash
    from {{ this }}
),

changed as (
    select signatures.period_start, stored.source_quantile_hash is distinct from
        signatures.source_quantile_hash as is_quantile_changed
    from signatures
    left join stored on signatures.period_start = stored.period_start
    where stored.source_hash is distinct from signatures.source_hash
),

vanished as (
    select period_start from stored
    where period_start not in (select period_start from signatures)
),

kept_quantiles as (
    -- periods whose counts changed but whose FRT/ART rows did not: their stored figures stand
    select
        {{ period_column }} as period_start, grain, team_id, agent_id,
        {{ quantile_columns | join(', ') }}
    from {{ this }}
    where {{ period_column }} in (
        select period_start from changed where not is_quantile_changed
    )
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
        avg(frt_s) as frt_mean_seconds,
        quantile_cont(frt_s, 0.5) as frt_median_seconds,
        quantile_cont(frt_s, 0.9) as frt_p90_seconds,
        avg(frt_bs) as frt_business_mean_seconds,
        quantile_cont(frt_bs, 0.5) as frt_business_median_seconds,
        quantile_cont(frt_bs, 0.9) as frt_business_p90_seconds,
        count(art_s) as art_n,
        avg(art_s) as art_mean_seconds,
        quantile_cont(art_s, 0.5) as art_median_seconds,
        quantile_cont(art_s, 0.9) as art_p90_seconds,
        avg(art_bs) as art_business_mean_seconds,
        quantile_cont(art_bs, 0.5) as art_business_median_seconds,
        quantile_cont(art_bs, 0.9) as art_business_p90_seconds
    from bucketed
    {% if is_incremental() -%}
    where period_start in (select period_start from changed where is_quantile_changed)
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
        sum(revenue) as revenue_amount,
        cast(sum(escalated) as bigint) as escalated_count,
        cast(sum(reassigned) as bigint) as reassigned_count
    from bucketed
    {% if is_incremental() -%}
    where period_start in (select period_start from changed)
    {% endif -%}
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
        source_hash,
        source_quantile_hash
    from rolled
    inner join signatures using (period_start)
)

select * from final
{% if is_incremental() -%}
union all by name
-- tombstones: the periods that lost every row
select period_start as {{ period_column }} from vanished
{%- endif %}
{%- endmacro %}


{% macro get_incremental_replace_periods_sql(arg_dict) -%}
{#- delete+insert by the unique key (a period), where a batch row with a NULL `grain` is a
    tombstone: it deletes its period and is not inserted (kpi_rollup). -#}
{%- set target = arg_dict['target_relation'] -%}
{%- set source = arg_dict['temp_relation'] -%}
{%- set key = arg_dict['unique_key'] -%}
{%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
delete from {{ target }} where {{ key }} in (select {{ key }} from {{ source }});
insert into {{ target }} ({{ columns }})
select {{ columns }} from {{ source }} where grain is not null
{%- endmacro %}
