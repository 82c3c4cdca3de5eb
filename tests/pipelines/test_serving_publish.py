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
    manifest_path,
    publish_serving_snapshot,
)


def _warehouse(path: Path, cycles: int) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE OR REPLACE TABLE fct_cycles AS "
            "SELECT range AS cycle_id, 7 AS source_seq FROM range($1)",
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
    # bookkeeping columns (the feed seq a row was computed at) stay in the warehouse
    with duckdb.connect(str(serving), read_only=True) as con:
        published = con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'fct_cycles'"
        ).fetchall()
    assert published == [("cycle_id",)]
    assert sorted(p.name for p in serving.parent.iterdir()) == [
        ".analytics.duckdb.publish.json",
        "analytics.duckdb",
    ]


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
        ".analytics.duckdb.publish.json",
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


def _marts(path: Path, conversations: int, *, extra: str = "") -> Path:
    """A warehouse with a keyed mart (patched by conversation), an unkeyed one, a view, NULL
    keys, duplicate rows, and a table left from an older build."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"""
            CREATE OR REPLACE TABLE fct_messages AS
            SELECT
                CASE WHEN i % 97 = 0 THEN NULL ELSE 'c' || (i % $1) END AS conversation_id,
                i AS message_id,
                (i * 7) % 13 AS body_length,
                CASE WHEN i % 5 = 0 THEN NULL ELSE i / 3.0 END AS score,
                TIMESTAMPTZ '2026-11-01 00:00:00+00' + i * INTERVAL 1 MINUTE AS sent_at
            FROM range(2000) r(i)
            {extra}
            """,
            [conversations],
        )
        con.execute("INSERT INTO fct_messages SELECT * FROM fct_messages LIMIT 3")
        con.execute("COMMENT ON TABLE fct_messages IS 'One row per message.'")
        con.execute("COMMENT ON COLUMN fct_messages.sent_at IS 'When it was sent.'")
        con.execute(
            "CREATE OR REPLACE TABLE dim_teams AS SELECT * FROM (VALUES ('t1', 'Ventas')) t(id, n)"
        )
        con.execute(
            "CREATE OR REPLACE VIEW rpt_kpis_daily AS "
            "SELECT count(*) AS messages_count, sum(body_length) AS body_sum FROM fct_messages"
        )
    return path


def _content(serving: Path) -> dict:
    """Tables, comments, column types and rows (sorted) of a serving file."""
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = con.execute(
            "SELECT table_name, comment FROM duckdb_tables() ORDER BY 1"
        ).fetchall()
        columns = con.execute(
            "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
            "ORDER BY table_name, column_index"
        ).fetchall()
        rows = {
            name: sorted(
                con.execute(f'SELECT * FROM "{name}"').fetchall(), key=lambda row: repr(row)
            )
            for name, _ in tables
        }
    return {"tables": tables, "columns": columns, "rows": rows}


def test_an_incremental_publish_equals_a_full_one(tmp_path):
    warehouse = _marts(tmp_path / "warehouse.duckdb", conversations=50)
    serving = tmp_path / "serving" / "analytics.duckdb"
    first = publish_serving_snapshot(warehouse, serving)
    assert not first.incremental and set(first.actions.values()) == {"copied"}

    # Same warehouse again: nothing to write.
    again = publish_serving_snapshot(warehouse, serving)
    assert again.incremental
    assert set(again.actions.values()) == {"kept"}

    # A few conversations change, one disappears, new ones and a new table appear.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE fct_messages SET body_length = 99 WHERE conversation_id = 'c3'")
        con.execute("DELETE FROM fct_messages WHERE conversation_id = 'c4'")
        con.execute("DELETE FROM fct_messages WHERE conversation_id IS NULL AND message_id < 500")
        con.execute(
            "INSERT INTO fct_messages SELECT 'new' || i, 5000 + i, 1, NULL, NULL FROM range(7) r(i)"
        )
        con.execute("CREATE TABLE dim_agents AS SELECT 'a1' AS agent_id")
    patched = publish_serving_snapshot(warehouse, serving)
    assert patched.actions == {
        "dim_agents": "copied",
        "dim_teams": "kept",
        "fct_messages": "patched",
        "rpt_kpis_daily": "copied",
    }
    full = tmp_path / "full" / "analytics.duckdb"
    publish_serving_snapshot(warehouse, full, incremental=False)
    assert _content(serving) == _content(full)
    assert patched.row_counts == publish_serving_snapshot(warehouse, full).row_counts

    # A schema or comment change rewrites the table; a dropped relation leaves the snapshot.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("COMMENT ON COLUMN fct_messages.score IS 'Now documented.'")
        con.execute("DROP VIEW rpt_kpis_daily")
    changed = publish_serving_snapshot(warehouse, serving)
    assert changed.actions["fct_messages"] == "copied" and "rpt_kpis_daily" not in changed.actions
    publish_serving_snapshot(warehouse, full, incremental=False)
    assert _content(serving) == _content(full)


def test_fct_messages_is_patched_by_source_seq_and_equals_a_full_publish(tmp_path):
    """fct_messages carries source_seq (the feed seq its build saw): the conversations rewritten
    since the last publish are those above the recorded seq, and only they are rewritten."""
    warehouse = _marts(tmp_path / "warehouse.duckdb", conversations=40)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("ALTER TABLE fct_messages ADD COLUMN source_seq BIGINT DEFAULT 100")
    serving = tmp_path / "serving" / "analytics.duckdb"
    full = tmp_path / "full" / "analytics.duckdb"
    publish_serving_snapshot(warehouse, serving)
    assert publish_serving_snapshot(warehouse, serving).actions["fct_messages"] == "kept"

    # A run rewrites c3 (changed rows) and adds c99, stamping them with its seq, as dbt would.
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "CREATE TEMP TABLE c3 AS SELECT * REPLACE (body_length + 1 AS body_length, "
            "150 AS source_seq) FROM fct_messages WHERE conversation_id = 'c3'"
        )
        con.execute("DELETE FROM fct_messages WHERE conversation_id = 'c3'")
        con.execute("INSERT INTO fct_messages SELECT * FROM c3")
        con.execute(
            "INSERT INTO fct_messages SELECT 'c99', 9000 + i, 1, NULL, NULL, 150 FROM range(4) r(i)"
        )
    patched = publish_serving_snapshot(warehouse, serving)
    assert patched.actions["fct_messages"] == "patched"
    publish_serving_snapshot(warehouse, full, incremental=False)
    assert _content(serving) == _content(full)
    with duckdb.connect(str(serving), read_only=True) as con:
        columns = [row[0] for row in con.execute("DESCRIBE fct_messages").fetchall()]
    assert "source_seq" not in columns

    # Rows gone without a higher seq (not how dbt writes it): the counts disagree, full copy.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DELETE FROM fct_messages WHERE conversation_id = 'c5'")
    assert publish_serving_snapshot(warehouse, serving).actions["fct_messages"] == "copied"
    publish_serving_snapshot(warehouse, full, incremental=False)
    assert _content(serving) == _content(full)

    # A warehouse rebuilt from an older feed (seq went backwards): full copy.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE fct_messages SET source_seq = 7, body_length = 0")
    assert publish_serving_snapshot(warehouse, serving).actions["fct_messages"] == "copied"
    publish_serving_snapshot(warehouse, full, incremental=False)
    assert _content(serving) == _content(full)


def test_a_snapshot_changed_behind_the_publishers_back_is_not_reused(tmp_path):
    warehouse = _marts(tmp_path / "warehouse.duckdb", conversations=20)
    serving = tmp_path / "analytics.duckdb"
    publish_serving_snapshot(warehouse, serving)
    # An analyst opens the snapshot read-write and changes it: the manifest no longer vouches.
    with duckdb.connect(str(serving)) as con:
        con.execute("DELETE FROM fct_messages WHERE conversation_id = 'c1'")
    again = publish_serving_snapshot(warehouse, serving)
    assert not again.incremental
    full = tmp_path / "full.duckdb"
    publish_serving_snapshot(warehouse, full, incremental=False)
    assert _content(serving) == _content(full)

    manifest_path(serving).write_text("not json")
    assert not publish_serving_snapshot(warehouse, serving).incremental
    manifest_path(serving).unlink()
    assert not publish_serving_snapshot(warehouse, serving).incremental
    assert publish_serving_snapshot(warehouse, serving).incremental


def test_a_reused_snapshot_with_too_much_free_space_is_written_afresh(tmp_path, monkeypatch):
    warehouse = _marts(tmp_path / "warehouse.duckdb", conversations=20)
    serving = tmp_path / "analytics.duckdb"
    publish_serving_snapshot(warehouse, serving)
    monkeypatch.setattr("pipelines.defs.publish.MAX_FREE_BLOCK_SHARE", -1.0)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE fct_messages SET body_length = 0")
    rewritten = publish_serving_snapshot(warehouse, serving)
    assert not rewritten.incremental and set(rewritten.actions.values()) == {"copied"}
    full = tmp_path / "full.duckdb"
    publish_serving_snapshot(warehouse, full, incremental=False)
    assert _content(serving) == _content(full)
