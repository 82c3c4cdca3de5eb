"""Publishing the serving snapshot: dbt builds it in a file next to the snapshot, publish copies in
the warehouse's reports and swaps it in; readers never see a torn file."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.publish import check_serving_snapshot
from pipelines.serving import (
    SERVING_TABLES,
    PublishError,
    build_path,
    manifest_path,
    prepare_serving_build,
    publish_serving_build,
    start_serving_copy,
)


def _warehouse(path: Path, days: int = 2) -> Path:
    """A warehouse with a report dbt keeps there (with its bookkeeping hash) and a model that is
    not served."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE OR REPLACE TABLE rpt_kpis_daily AS SELECT range AS kpi_date_index, "
            "10 * range AS cycles_opened_count, hash(range) AS source_quantile_hash FROM range($1)",
            [days],
        )
        con.execute("COMMENT ON TABLE rpt_kpis_daily IS 'Daily KPIs; it''s pooled.'")
        con.execute("COMMENT ON COLUMN rpt_kpis_daily.cycles_opened_count IS 'Cycles opened.'")
        con.execute("CREATE OR REPLACE TABLE int_cycles_opened AS SELECT 1 AS internal_only")
    return path


def _dbt_builds(serving: Path, warehouse: Path, cycles: int) -> Path:
    """What a dbt run does: prepare the build file, then (re)write a mart and its watermark."""
    build = prepare_serving_build(serving)
    with duckdb.connect(str(build)) as con:
        con.execute(
            "CREATE OR REPLACE TABLE fct_cycles AS SELECT range AS cycle_id FROM range($1)",
            [cycles],
        )
        con.execute("COMMENT ON TABLE fct_cycles IS 'One row per care cycle.'")
        con.execute("CREATE SCHEMA IF NOT EXISTS _pipeline")
        con.execute(
            "CREATE OR REPLACE TABLE _pipeline.watermarks AS "
            "SELECT 'fct_cycles' AS model_name, 7 AS source_seq"
        )
    return build


def _content(serving: Path) -> dict:
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = con.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables() ORDER BY 1, 2"
        ).fetchall()
        columns = con.execute(
            "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
            "ORDER BY schema_name, table_name, column_index"
        ).fetchall()
        rows = {
            f"{schema}.{name}": sorted(con.execute(f'SELECT * FROM {schema}."{name}"').fetchall())
            for schema, name, _ in tables
        }
    return {"tables": tables, "columns": columns, "rows": rows}


def test_publish_swaps_in_the_build_with_the_warehouse_reports(tmp_path):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving" / "analytics.duckdb"
    _dbt_builds(serving, warehouse, cycles=3)

    info = publish_serving_build(warehouse, serving)

    assert info.row_counts == {"fct_cycles": 3, "rpt_kpis_daily": 2}
    assert info.copied == ("rpt_kpis_daily",) and not info.incremental
    content = _content(serving)
    assert content["tables"] == [
        ("_pipeline", "watermarks", None),
        ("main", "fct_cycles", "One row per care cycle."),
        ("main", "rpt_kpis_daily", "Daily KPIs; it's pooled."),
    ]
    # the report's bookkeeping hash stays in the warehouse; its column docs travel
    assert [row[1:] for row in content["columns"] if row[0] == "rpt_kpis_daily"] == [
        ("kpi_date_index", "BIGINT", None),
        ("cycles_opened_count", "BIGINT", "Cycles opened."),
    ]
    assert sorted(p.name for p in serving.parent.iterdir()) == [
        ".analytics.duckdb.publish.json",
        "analytics.duckdb",
    ]


def test_the_next_build_starts_from_the_snapshot_only_when_its_manifest_vouches(tmp_path):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "analytics.duckdb"
    _dbt_builds(serving, warehouse, cycles=3)
    publish_serving_build(warehouse, serving)

    build = prepare_serving_build(serving)
    assert _content(build) == _content(serving)
    _dbt_builds(serving, warehouse, cycles=4)
    assert publish_serving_build(warehouse, serving).incremental

    # An analyst opens the snapshot read-write: the next build starts empty.
    with duckdb.connect(str(serving)) as con:
        con.execute("DELETE FROM fct_cycles WHERE cycle_id = 1")
    assert not prepare_serving_build(serving).exists()
    # So it does after a broken manifest, or with no manifest.
    _dbt_builds(serving, warehouse, cycles=4)
    assert not publish_serving_build(warehouse, serving).incremental
    manifest_path(serving).write_text("not json")
    assert not prepare_serving_build(serving).exists()
    manifest_path(serving).unlink()
    assert not prepare_serving_build(serving).exists()
    _dbt_builds(serving, warehouse, cycles=4)
    publish_serving_build(warehouse, serving)
    assert prepare_serving_build(serving).exists()


def _copies(serving: Path) -> list[Path]:
    return sorted(serving.parent.glob(f"{build_path(serving).name}.*.tmp"))


def test_the_early_copy_is_the_build_only_while_it_is_the_snapshot_in_place(tmp_path):
    """The run's first step starts copying the snapshot (start_serving_copy); the dbt step
    takes that copy, unless another publish replaced the snapshot in between."""
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "analytics.duckdb"
    _dbt_builds(serving, warehouse, cycles=3)
    publish_serving_build(warehouse, serving)

    start_serving_copy(serving)
    build = prepare_serving_build(serving)
    assert _content(build) == _content(serving)
    assert _copies(serving) == []

    # A publish lands between the copy and the dbt step: the copy is stale, so it is dropped
    # and the build is copied again from the new snapshot.
    start_serving_copy(serving)
    _dbt_builds(serving, warehouse, cycles=5)
    publish_serving_build(warehouse, serving)
    build = prepare_serving_build(serving)
    assert _content(build) == _content(serving)
    assert _copies(serving) == []

    # No snapshot the manifest vouches for: no copy, and the build starts empty.
    manifest_path(serving).unlink()
    start_serving_copy(serving)
    assert not prepare_serving_build(serving).exists()
    assert _copies(serving) == []


def test_a_copy_a_crashed_run_left_is_removed_once_stale(tmp_path):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "analytics.duckdb"
    _dbt_builds(serving, warehouse, cycles=3)
    publish_serving_build(warehouse, serving)
    stale = build_path(serving).with_name(f"{build_path(serving).name}.dead.tmp")
    fresh = build_path(serving).with_name(f"{build_path(serving).name}.busy.tmp")
    stale.write_bytes(b"half a copy")
    fresh.write_bytes(b"a copy in progress")
    old = dt.datetime.now().timestamp() - 2 * 3600
    os.utime(stale, (old, old))
    prepare_serving_build(serving)
    assert _copies(serving) == [fresh]


def test_a_leftover_build_of_a_failed_run_is_discarded(tmp_path):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "analytics.duckdb"
    _dbt_builds(serving, warehouse, cycles=3)
    publish_serving_build(warehouse, serving)
    half_built = _dbt_builds(serving, warehouse, cycles=99)

    build = prepare_serving_build(serving)

    assert build == half_built
    assert _content(build) == _content(serving)


def test_a_reader_holding_the_old_snapshot_keeps_reading_while_a_new_one_appears(tmp_path):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving" / "analytics.duckdb"
    _dbt_builds(serving, warehouse, cycles=3)
    publish_serving_build(warehouse, serving)
    reader = duckdb.connect(str(serving), read_only=True)
    assert reader.execute("SELECT count(*) FROM fct_cycles").fetchall() == [(3,)]

    _dbt_builds(serving, warehouse, cycles=5)
    publish_serving_build(warehouse, serving)

    assert reader.execute("SELECT count(*) FROM fct_cycles").fetchall() == [(3,)]
    reader.close()
    with duckdb.connect(str(serving), read_only=True) as fresh:
        assert fresh.execute("SELECT count(*) FROM fct_cycles").fetchall() == [(5,)]


def test_publishing_without_a_build_fails_and_keeps_the_old_snapshot(tmp_path):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "analytics.duckdb"
    _dbt_builds(serving, warehouse, cycles=2)
    publish_serving_build(warehouse, serving)

    with pytest.raises(PublishError, match="no serving build"):
        publish_serving_build(warehouse, serving)
    with pytest.raises(PublishError, match="warehouse not found"):
        publish_serving_build(tmp_path / "missing.duckdb", serving)
    # A build with no serving table (dbt built nothing): refused, and the build is removed.
    duckdb.connect(str(build_path(serving))).close()
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(PublishError, match="no fct_/dim_/rpt_ tables"):
        publish_serving_build(empty, serving)

    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM fct_cycles").fetchall() == [(2,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".analytics.duckdb.publish.json",
        "analytics.duckdb",
        "empty.duckdb",
        "warehouse.duckdb",
    ]


def test_a_build_with_too_much_free_space_is_written_compactly(tmp_path, monkeypatch):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "analytics.duckdb"
    _dbt_builds(serving, warehouse, cycles=50_000)
    before = publish_serving_build(warehouse, serving)
    assert not before.compacted
    monkeypatch.setattr("pipelines.serving.MAX_FREE_BLOCK_SHARE", -1.0)
    _dbt_builds(serving, warehouse, cycles=40_000)
    expected = _content(build_path(serving))

    info = publish_serving_build(warehouse, serving)

    assert info.compacted
    published = _content(serving)
    assert published["tables"] == expected["tables"]
    assert published["rows"]["main.fct_cycles"] == expected["rows"]["main.fct_cycles"]
    assert published["rows"]["_pipeline.watermarks"] == [("fct_cycles", 7)]
    assert prepare_serving_build(serving).exists()


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
