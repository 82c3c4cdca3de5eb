-- Every rate is a share: 0..1 (NULL when its denominator is 0).
{#- It reads three models: Dagster shows it as a check of rpt_kpis_daily, the first of them,
    rather than as an observation with a warning in every run. -#}
{{ config(meta={'dagster': {'ref': {'name': 'rpt_kpis_daily'}}}) }}
{% set rates = ['reopen_rate', 'sla_compliance_rate', 'csat_rate', 'csat_response_rate',
                'conversion_rate', 'escalated_rate', 'reassigned_rate'] %}
{% for model in ['rpt_kpis_daily', 'rpt_kpis_weekly'] %}
{% for rate in rates %}
select '{{ model }}' as model_name, '{{ rate }}' as rate_name, {{ rate }} as rate_value
from {{ ref(model) }}
where {{ rate }} < 0 or {{ rate }} > 1
union all
{% endfor %}
{% endfor %}
select 'rpt_conversion_cohorts', 'conversion_rate', conversion_rate
from {{ ref('rpt_conversion_cohorts') }}
where conversion_rate < 0 or conversion_rate > 1
