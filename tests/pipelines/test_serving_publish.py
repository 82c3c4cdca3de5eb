"""Publishing the serving snapshot: docs travel with the tables, readers never see a torn file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.publish import (
    SERVING_TABLES,
    PublishError,
    check_serving_snapshot,
    publish_serving_snapshot,
)


def _warehouse(path: Path, cycles: int) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE OR REPLACE TABLE fct_cycles AS SELECT range AS cycle_id FROM range($1)",
            [cycles],
        )
        con.execute("COMMENT ON TABLE fct_cycles IS 'One row per care cycle; it''s the unit.'")
        con.execute("COMMENT ON COLUMN fct_cycles.cycle_id IS 'Cycle key.'")
        con.execute(
            "CREATE OR REPLACE VIEW rpt_kpis_daily AS "
            "SELECT count(*) AS cycles_opened_count FROM fct_cycles"
        )
        con.execute("COMMENT ON VIEW rpt_kpis_daily IS 'Daily KPIs.'")
        con.execute("CREATE OR REPLACE VIEW stg_inbox__messages AS SELECT 1 AS staging_only")
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute("CREATE OR REPLACE TABLE raw.fct_not_main AS SELECT 1 AS x")
    return path


def test_publish_copies_marts_and_reporting_with_their_comments(tmp_path):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb", cycles=3)
    serving = tmp_path / "serving" / "analytics.duckdb"

    info = publish_serving_snapshot(warehouse, serving)

    assert info.row_counts == {"fct_cycles": 3, "rpt_kpis_daily": 1}
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = con.execute(
            "SELECT table_name, comment FROM duckdb_tables() ORDER BY 1"
        ).fetchall()
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() "
            "WHERE comment IS NOT NULL"
        ).fetchall()
    assert tables == [
        ("fct_cycles", "One row per care cycle; it's the unit."),
        ("rpt_kpis_daily", "Daily KPIs."),
    ]
    assert columns == [("fct_cycles", "cycle_id", "Cycle key.")]
    assert [p.name for p in serving.parent.iterdir()] == ["analytics.duckdb"]


def test_a_reader_holding_the_old_snapshot_keeps_reading_while_a_new_one_appears(tmp_path):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb", cycles=3)
    serving = tmp_path / "serving" / "analytics.duckdb"
    publish_serving_snapshot(warehouse, serving)
    reader = duckdb.connect(str(serving), read_only=True)
    assert reader.execute("SELECT count(*) FROM fct_cycles").fetchall() == [(3,)]

    _warehouse(warehouse, cycles=5)
    publish_serving_snapshot(warehouse, serving)

    assert reader.execute("SELECT count(*) FROM fct_cycles").fetchall() == [(3,)]
    reader.close()
    with duckdb.connect(str(serving), read_only=True) as fresh:
        assert fresh.execute("SELECT count(*) FROM fct_cycles").fetchall() == [(5,)]


def test_publishing_without_marts_fails_and_keeps_the_old_snapshot(tmp_path):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb", cycles=2)
    serving = tmp_path / "analytics.duckdb"
    publish_serving_snapshot(warehouse, serving)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()

    with pytest.raises(PublishError, match="no fct_/dim_/rpt_ relations"):
        publish_serving_snapshot(empty, serving)
    with pytest.raises(PublishError, match="warehouse not found"):
        publish_serving_snapshot(tmp_path / "missing.duckdb", serving)

    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM fct_cycles").fetchall() == [(2,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "analytics.duckdb",
        "empty.duckdb",
        "warehouse.duckdb",
    ]


def test_the_freshness_check_wants_every_contract_table_and_a_recent_file(tmp_path):
    serving = tmp_path / "analytics.duckdb"
    now = dt.datetime.now(dt.UTC)
    assert not check_serving_snapshot(serving, now, dt.timedelta(minutes=30)).passed

    with duckdb.connect(str(serving)) as con:
        con.execute("CREATE TABLE fct_cycles (cycle_id VARCHAR)")
    missing = check_serving_snapshot(serving, now, dt.timedelta(minutes=30))
    assert not missing.passed and "rpt_kpis_weekly" in (missing.description or "")

    with duckdb.connect(str(serving)) as con:
        for name in set(SERVING_TABLES) - {"fct_cycles"}:
            con.execute(f"CREATE TABLE {name} (x INTEGER)")
    assert check_serving_snapshot(serving, now, dt.timedelta(minutes=30)).passed
    stale = check_serving_snapshot(serving, now + dt.timedelta(hours=2), dt.timedelta(minutes=30))
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
