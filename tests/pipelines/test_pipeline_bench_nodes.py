"""The pipeline benchmark reads each dbt node's time from dbt's console lines."""

from __future__ import annotations

import sys

from pipeline_api import REPO

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.pipeline_bench import dbt_node_seconds, node_summary


def test_dbt_node_seconds_reads_models_and_tests() -> None:
    log = "\n".join(
        [
            "\x1b[0m13:10:01  1 of 142 START sql incremental model main.fct_messages ..... [RUN]",
            "12 of 142 OK created sql incremental model main.fct_messages ........ "
            "[\x1b[32mOK\x1b[0m in 9.71s]",
            "13 of 142 OK created sql table model main.rpt_kpis_daily ... "
            "[\x1b[32mOK\x1b[0m in 2.90s]",
            "40 of 142 PASS not_null_fct_cycles_cycle_id ....... [\x1b[32mPASS\x1b[0m in 0.52s]",
            "41 of 142 WARN 3 assert_rates_within_unit_interval ... "
            "[\x1b[33mWARN 3\x1b[0m in 1.00s]",
            "2026-11-25 13:10:02 +0000 - dagster - DEBUG - bandeja_dbt - ASSET_CHECK_EVALUATION",
        ]
    )
    nodes = dbt_node_seconds(log)
    assert nodes == {
        "main.fct_messages": 9.71,
        "main.rpt_kpis_daily": 2.9,
        "test not_null_fct_cycles_cycle_id": 0.52,
        "test assert_rates_within_unit_interval": 1.0,
    }
    summary = node_summary(nodes, top=2)
    assert summary["models"] == 2 and summary["tests"] == 2
    assert list(summary["slowest"]) == ["main.fct_messages", "main.rpt_kpis_daily"]
