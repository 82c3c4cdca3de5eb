"""The whole pipeline on temp files: real inbox API -> feed -> warehouse -> dbt -> serving."""

from __future__ import annotations

import datetime as dt
import sys
import threading

import duckdb
import pytest
from pipeline_api import REPO
from pipeline_events import sample_events

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.pipeline_bench import dbt_node_seconds, step_seconds
from inbox_api import cli
from inbox_api.settings import Settings, get_settings
from pipelines.defs import dbt_runner
from pipelines.runner import PipelineError, run_pipeline, run_weekly_report

pytestmark = pytest.mark.slow


def _settings(feed_api, tmp_path, token: str | None = None) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path / "data",
        config_file=REPO / "config" / "bandeja.yaml",
        api_url=feed_api.url,
        feed_token=token or feed_api.feed_token,
    )


def _snapshot(serving) -> dict[str, list[tuple]]:
    with duckdb.connect(str(serving), read_only=True) as con:
        # the main schema: _pipeline.watermarks is bookkeeping (when each table was built)
        tables = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
            ).fetchall()
        ]
        return {
            name: sorted(con.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in tables
        }


def _constraints(serving, table: str) -> set[tuple[str, str]]:
    """(type, column or expression) of `table`'s NOT NULL and CHECK constraints."""
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.execute(
            "SELECT constraint_type, constraint_column_names, expression FROM duckdb_constraints() "
            "WHERE schema_name = 'main' AND table_name = $1 "
            "AND constraint_type IN ('NOT NULL', 'CHECK')",
            [table],
        ).fetchall()
    return {
        (kind, columns[0] if kind == "NOT NULL" else expression)
        for kind, columns, expression in rows
    }


def test_pipeline_publishes_documented_serving_tables_and_reruns_identically(feed_api, tmp_path):
    events = sample_events()
    feed_api.import_events(events)
    stats = feed_api.stats()
    settings = _settings(feed_api, tmp_path)
    as_of = dt.datetime.fromisoformat(events[-1]["occurred_at"]) + dt.timedelta(days=1)

    first = run_pipeline(settings, as_of=as_of)

    assert first.success and first.failure is None
    assert (first.events_pulled, first.cursor) == (stats["count"], stats["max_seq"])
    assert first.models_built > 10
    assert first.tests_passed > 0 and first.tests_failed == 0
    assert first.checks_failed == []
    serving = settings.serving_db
    assert first.serving_db == serving and serving.exists()
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = dict(
            con.execute(
                "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main'"
            ).fetchall()
        )
        bookkeeping = con.execute(
            "SELECT DISTINCT schema_name, table_name FROM duckdb_tables() "
            "WHERE schema_name <> 'main'"
        ).fetchall()
        documented_columns = con.execute(
            "SELECT count(*) FROM duckdb_columns() "
            "WHERE table_name = 'fct_cycles' AND comment IS NOT NULL"
        ).fetchall()[0][0]
        cycles = con.execute(
            "SELECT cycle_number, frt_seconds FROM fct_cycles "
            "WHERE conversation_id = 'conv-1' ORDER BY cycle_number"
        ).fetchall()
    assert {"fct_cycles", "fct_messages", "rpt_kpis_daily", "dim_business_intervals"} <= set(tables)
    assert not {name for name in tables if not name.startswith(("fct_", "dim_", "rpt_"))}
    assert bookkeeping == [("_pipeline", "watermarks")]
    assert tables["fct_cycles"] and tables["rpt_kpis_daily"]
    assert documented_columns > 5
    # Two care cycles; the first answered by an agent three minutes after it opened.
    assert cycles[0] == (1, 180.0) and len(cycles) == 2
    # the run's as_of reached dbt (a day after the last event, not the last event)
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        assert con.execute("SELECT as_of_at FROM stg_inbox__run_as_of").fetchall() == [(as_of,)]

    opened = dt.datetime.fromisoformat(events[0]["occurred_at"]).date().isocalendar()
    report = run_weekly_report(settings, f"{opened.year}-W{opened.week:02d}")
    assert report is not None and (report / "report.pdf").exists()

    # the contract's not_null and accepted-values checks are enforced by the tables themselves
    constraints = _constraints(serving, "fct_cycles")
    assert {("NOT NULL", "cycle_id"), ("NOT NULL", "sla_status")} <= constraints
    assert any(kind == "CHECK" and "sla_status" in text for kind, text in constraints)
    published = _snapshot(serving)
    # A dashboard holding the published snapshot open while the next publish swaps the file.
    reader = duckdb.connect(str(serving), read_only=True)
    old_inode = serving.stat().st_ino

    second = run_pipeline(settings, as_of=as_of)

    assert second.success
    assert (second.events_pulled, second.cursor) == (0, stats["max_seq"])
    assert reader.execute("SELECT count(*) FROM fct_cycles").fetchall() == [(len(cycles),)]
    reader.close()
    assert serving.stat().st_ino != old_inode
    assert _snapshot(serving) == published
    # an incremental build starts from a copy of the snapshot, constraints included
    assert _constraints(serving, "fct_cycles") == constraints

    # `bandeja pipeline run --full-refresh` rebuilds the incremental models: same numbers
    third = run_pipeline(settings, as_of=as_of, full_refresh=True)
    assert third.success and third.tests_failed == 0
    assert _snapshot(serving) == published
    assert _constraints(serving, "fct_cycles") == constraints


def test_two_runs_in_one_process_parse_once_and_each_sees_its_own_as_of(
    feed_api, tmp_path, monkeypatch, capfd
):
    events = sample_events()
    feed_api.import_events(events)
    settings = _settings(feed_api, tmp_path)
    last_event = dt.datetime.fromisoformat(events[-1]["occurred_at"])
    parses = []
    parse = dbt_runner.parse_project
    monkeypatch.setattr(
        dbt_runner,
        "parse_project",
        lambda *args, **kwargs: (
            parses.append(threading.current_thread().name) or parse(*args, **kwargs)
        ),
    )

    first = run_pipeline(settings, as_of=last_event + dt.timedelta(days=1), verbose=True)

    # dbt's node lines and Dagster's step lines, as the pipeline benchmark reads them
    verbose = capfd.readouterr()
    nodes = dbt_node_seconds(verbose.out)
    assert first.success and first.models_built > 10
    # every model's line (the seed, a `daily` node, is not in a scheduled run)
    assert sum(not name.startswith("test ") for name in nodes) == first.models_built
    assert sum(name.startswith("test ") for name in nodes) >= first.tests_passed
    assert "bandeja_dbt" in step_seconds(verbose.out + verbose.err)
    # dbt closed the warehouse: this process opens it again, with another configuration
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        assert con.execute("SELECT as_of_at FROM stg_inbox__run_as_of").fetchall() == [
            (last_event + dt.timedelta(days=1),)
        ]

    second = run_pipeline(settings, as_of=last_event + dt.timedelta(days=2))

    assert second.success and second.models_built == first.models_built
    assert dbt_node_seconds(capfd.readouterr().out) == {}
    # one parse for both builds: the as_of instant reaches the cached manifest's SQL at run time;
    # it ran in the background while the first run pulled the feed
    assert parses == ["dbt-parse"]
    with duckdb.connect(str(settings.warehouse_db)) as con:
        assert con.execute("SELECT as_of_at FROM stg_inbox__run_as_of").fetchall() == [
            (last_event + dt.timedelta(days=2),)
        ]


def test_a_refused_token_fails_the_run_with_the_url_in_the_message(feed_api, tmp_path):
    settings = _settings(feed_api, tmp_path, token="not-the-feed-token")

    with pytest.raises(PipelineError) as error:
        run_pipeline(settings)

    summary = error.value.summary
    assert not summary.success and summary.models_built == 0
    assert "raw_inbox_events" in str(error.value)
    assert f"{feed_api.url}/v1/feed/events: HTTP 401" in str(error.value)
    assert not settings.serving_db.exists()


def test_cli_pipeline_run_exits_non_zero_with_a_clear_message(
    feed_api, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("BANDEJA_ENV", "test")
    monkeypatch.setenv("BANDEJA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BANDEJA_CONFIG_FILE", str(REPO / "config" / "bandeja.yaml"))
    monkeypatch.setenv("BANDEJA_API_URL", feed_api.url)
    monkeypatch.setenv("BANDEJA_FEED_TOKEN", "wrong")
    get_settings.cache_clear()
    try:
        assert cli.main(["pipeline", "run"]) == 1
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "FAILED: raw_inbox_events" in err and "HTTP 401" in err
    assert "events pulled:  0" in err
