{{ kpi_rollup('week') }}
