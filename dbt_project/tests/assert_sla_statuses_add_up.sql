-- met + breached + pending + excluded = cycles, per day (all grain) and in total.
{#- It reads two models: Dagster shows it as a check of rpt_kpis_daily, whose SLA counts it
    tests, rather than as an observation with a warning in every run. -#}
{{ config(meta={'dagster': {'ref': {'name': 'rpt_kpis_daily'}}}) }}
with kpis as (
    select
        sum(sla_met_count + sla_breached_count + sla_pending_count + sla_excluded_count)
            as classified,
        sum(cycles_started_count) as started
    from {{ ref('rpt_kpis_daily') }}
    where grain = 'all'
),

cycles as (
    select count(*) as cycles from {{ ref('fct_cycles') }}
)

select *
from kpis
cross join cycles
where kpis.classified <> cycles.cycles or kpis.started <> cycles.cycles
