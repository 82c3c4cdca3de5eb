{{ kpi_rollup('day') }}
