-- The first and last local day with KPIs in the snapshot.
select min(kpi_date) as first_date, max(kpi_date) as last_date from rpt_kpis_daily
