"""The code location loads, lineage connects, and the pure helpers build the right arguments."""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json

import dagster as dg
import duckdb
import pytest
import yaml
from pipeline_api import REPO

from inbox_api.settings import Settings
from ingest.config import BusinessConfig, SlaConfig
from pipelines.commands import dagster_home, register
from pipelines.definitions import defs
from pipelines.defs import reports
from pipelines.defs.dbt import AS_OF_ENV, bandeja_dbt_models, dbt_build_args, dbt_env
from pipelines.defs.ingest import (
    RAW_BUSINESS_INTERVALS,
    RAW_INBOX_EVENTS,
    compare_feed_counts,
    warehouse_seqs,
)
from pipelines.defs.reports import previous_iso_week
from pipelines.defs.resources import (
    DBT_TARGETS,
    WAREHOUSE_POOL,
    WAREHOUSE_RUN_TAG,
    dbt_target,
    warehouse_lock,
)
from pipelines.defs.schedules import interval_cron
from pipelines.runner import run_weekly_report


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("bandeja_pipeline") is not None
    assert defs.resolve_job_def("bandeja_weekly_report") is not None


def test_dbt_sources_are_the_ingest_assets():
    graph = defs.resolve_asset_graph()
    dbt_parents = {
        parent
        for key in bandeja_dbt_models.keys
        for parent in graph.get(key).parent_keys
        if parent not in bandeja_dbt_models.keys
    }
    assert dbt_parents == {RAW_INBOX_EVENTS, RAW_BUSINESS_INTERVALS}


def test_dbt_tests_are_asset_checks_and_writers_share_one_pool():
    assert bandeja_dbt_models.check_keys, "dbt data tests should surface as asset checks"
    graph = defs.resolve_asset_graph()
    for key in (RAW_INBOX_EVENTS, RAW_BUSINESS_INTERVALS, dg.AssetKey("serving_snapshot")):
        assert graph.get(key).pools == {WAREHOUSE_POOL}
    assert bandeja_dbt_models.op.pool == WAREHOUSE_POOL


def test_only_the_checks_every_run_builds_are_blocking():
    # A blocking check a run leaves without a result logs a warning in every 10-minute run; the
    # `daily` tests are not built there, so they do not block (a failed one fails the dbt step).
    blocking = {spec.name: spec.blocking for spec in bandeja_dbt_models.check_specs}
    assert blocking["unique_fct_messages_message_id"] is False  # tagged daily
    assert blocking["unique_fct_leads_lead_id"] is True
    assert sum(blocking.values()) > len(blocking) / 2


def test_singular_tests_over_several_models_are_checks_of_the_model_they_name():
    # Without `meta.dagster.ref`, dagster-dbt logs such a test as an observation, with a
    # warning in every run, and the UI shows no check for it.
    checks = {spec.name: spec.asset_key for spec in bandeja_dbt_models.check_specs}
    for name in ("assert_sla_statuses_add_up", "assert_rates_within_unit_interval"):
        assert checks[name] == dg.AssetKey("rpt_kpis_daily")


def test_dbt_args_carry_the_business_config_and_the_env_the_as_of():
    config = BusinessConfig(
        sla=SlaConfig(business_target_seconds=120, offhours_target_seconds=900, clock="business"),
        conversion_window_days=14,
        low_confidence_n=5,
    )
    as_of = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6)))

    args = dbt_build_args(config, target="dev")

    assert args[:8] == [
        "build",
        "--target",
        "dev",
        "--exclude-resource-type",
        "unit_test",
        "--exclude",
        "tag:daily",
        "--vars",
    ]
    # as_of is not a var: a var that changes every run would re-parse the whole project
    assert json.loads(args[8]) == {
        "business_timezone": "America/Mexico_City",
        "sla_business_target_seconds": 120,
        "sla_offhours_target_seconds": 900,
        "sla_clock": "business",
        "conversion_window_days": 14,
        "low_confidence_n": 5,
    }
    assert dbt_env(as_of) == {AS_OF_ENV: "2026-11-23T15:30:00+00:00"}
    assert dbt_env(None) == {}
    assert dbt_build_args(config, target="prod", full_refresh=True)[-1] == "--full-refresh"
    assert "--full-refresh" not in args
    # the full-table (`daily`) tests run on a full refresh and in the daily run
    assert "tag:daily" not in dbt_build_args(config, target="prod", full_refresh=True)
    assert "tag:daily" not in dbt_build_args(config, target="prod", daily=True)
    with pytest.raises(ValueError, match="timezone"):
        dbt_env(dt.datetime(2026, 11, 23))


def test_environment_maps_to_a_dbt_target():
    assert dbt_target("development") == "dev"
    assert dbt_target("test") == "dev"
    assert dbt_target("production") == "prod"
    with pytest.raises(ValueError, match="staging"):
        dbt_target("staging")


def test_schedules_run_the_pipeline_every_interval_and_the_report_on_monday_morning():
    assert interval_cron(10) == "*/10 * * * *"
    assert interval_cron(120) == "0 */2 * * *"
    with pytest.raises(ValueError, match="whole hours"):
        interval_cron(90)
    daily = defs.resolve_schedule_def("bandeja_pipeline_daily_schedule")
    assert (daily.cron_schedule, daily.execution_timezone) == ("30 6 * * *", "America/Mexico_City")
    tick = daily.evaluate_tick(dg.build_schedule_context()).run_requests[0]
    assert tick.run_config == {"ops": {"bandeja_dbt": {"config": {"daily": True}}}}
    report = defs.resolve_schedule_def("bandeja_weekly_report_schedule")
    assert report.cron_schedule == "0 8 * * 1"
    assert report.execution_timezone == "America/Mexico_City"
    monday = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    context = dg.build_schedule_context(scheduled_execution_time=monday)
    request = report.evaluate_tick(context).run_requests[0]
    assert request.run_config == {"ops": {"weekly_report": {"config": {"iso_week": "2026-W47"}}}}


def test_previous_iso_week_is_local():
    # 06:30 UTC Monday is Monday 00:30 local: the previous week is W47.
    assert (
        previous_iso_week(dt.datetime(2026, 11, 23, 6, 30, tzinfo=dt.UTC), "America/Mexico_City")
        == "2026-W47"
    )
    # 05:30 UTC Monday is Sunday 23:30 local: the previous week is W46.
    assert (
        previous_iso_week(dt.datetime(2026, 11, 23, 5, 30, tzinfo=dt.UTC), "America/Mexico_City")
        == "2026-W46"
    )
    assert previous_iso_week(dt.datetime(2027, 1, 4, 12, tzinfo=dt.UTC), "UTC") == "2026-W53"


def test_feed_reconciliation_severity():
    assert compare_feed_counts(10, 10, 10, 10)[0]
    behind = compare_feed_counts(12, 12, 10, 10)
    assert not behind[0] and behind[1] == dg.AssetCheckSeverity.WARN
    assert compare_feed_counts(10, 10, 10, 9)[1] == dg.AssetCheckSeverity.ERROR
    assert compare_feed_counts(10, 10, 11, 11)[1] == dg.AssetCheckSeverity.ERROR


def test_warehouse_seqs_are_the_last_seq_and_count_whatever_the_feed_says():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.inbox_events AS SELECT range + 1 AS seq FROM range(1000)")
    # In step with the feed, behind it (the filtered scan finds nothing), ahead of it.
    assert warehouse_seqs(con, 1000) == (1000, 1000)
    assert warehouse_seqs(con, 1200) == (1000, 1000)
    assert warehouse_seqs(con, 900) == (1000, 1000)
    con.execute("DELETE FROM raw.inbox_events")
    assert warehouse_seqs(con, 0) == (0, 0)
    assert warehouse_seqs(con, 5) == (0, 0)


def test_cli_registers_run_and_ui_and_the_ui_instance_limits_warehouse_writers(tmp_path):
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    run = parser.parse_args(["pipeline", "run", "--as-of", "2026-11-23T12:00:00Z"])
    assert run.as_of == dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    assert parser.parse_args(["pipeline", "ui", "--port", "3001"]).port == 3001

    home = dagster_home(tmp_path / "data")

    instance = yaml.safe_load((home / "dagster.yaml").read_text())
    assert home == (tmp_path / "data" / ".dagster_home").resolve()
    assert instance["telemetry"] == {"enabled": False}
    assert instance["concurrency"]["pools"]["default_limit"] == 1
    assert instance["concurrency"]["runs"]["tag_concurrency_limits"] == [
        {"key": next(iter(WAREHOUSE_RUN_TAG)), "limit": 1}
    ]
    # runs fork from the warm run host, unless BANDEJA_PIPELINE_WARM_RUNS=false
    assert instance["run_launcher"] == {"module": "pipelines.launcher", "class": "WarmRunLauncher"}
    cold = yaml.safe_load(
        (dagster_home(tmp_path / "data", warm_runs=False) / "dagster.yaml").read_text()
    )
    assert "run_launcher" not in cold and cold["concurrency"] == instance["concurrency"]


def test_the_weekly_report_is_skipped_when_the_report_module_is_absent(monkeypatch, tmp_path):
    monkeypatch.setattr(reports, "REPORT_MODULE", "dashboards.no_such_report")
    settings = Settings(env="test", data_dir=tmp_path, config_file=REPO / "config" / "bandeja.yaml")

    assert run_weekly_report(settings, "2026-W47") is None
    assert not settings.reports_dir.exists()


def test_the_warehouse_lock_excludes_a_second_writer(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with (
        warehouse_lock(warehouse),
        open(f"{warehouse}.lock", "a") as other,
        pytest.raises(BlockingIOError),
    ):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(f"{warehouse}.lock", "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_every_dbt_target_is_a_profile_output():
    profiles = yaml.safe_load((REPO / "dbt_project" / "profiles.yml").read_text())["bandeja"]
    for target in set(DBT_TARGETS.values()):
        output = profiles["outputs"][target]
        assert output["type"] == "duckdb"
        assert "BANDEJA_WAREHOUSE_DB" in output["path"]
