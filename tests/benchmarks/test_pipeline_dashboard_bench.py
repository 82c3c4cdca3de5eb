"""The pipeline and dashboard benchmarks' own parts, on small fixtures (no timing assertions)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

from ingest.config import load_config

REPO = Path(__file__).resolve().parents[2]
# `bench` lives at the repo root; the serving fixture is the dashboards tests' own.
for folder in (REPO, REPO / "tests" / "dashboards"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from fixture_serving import build_fixture_serving  # noqa: E402

from bench import dashboard_bench  # noqa: E402
from bench.memory import PeakSampler  # noqa: E402
from bench.pipeline_bench import _wait_for_run_end, step_seconds  # noqa: E402


def test_step_seconds_reads_dagster_step_durations() -> None:
    prefix = "2026-11-25 13:09:51 +0000 - dagster - DEBUG - job - 9dce7f98 - 12389"
    log = "\n".join(
        [
            f'{prefix} - raw_inbox_events - STEP_START - Started execution of step "x".',
            f"{prefix} - raw_inbox_events - STEP_SUCCESS - Finished execution of step "
            '"raw_inbox_events" in 1.12s.',
            f'{prefix} - bandeja_dbt - STEP_SUCCESS - Finished execution of step "bandeja_dbt" '
            "in 2m 3.5s.",
            f"{prefix} - serving_snapshot - STEP_SUCCESS - Finished execution of step "
            '"serving_snapshot" in 175ms.',
        ]
    )
    assert step_seconds(log) == {
        "raw_inbox_events": 1.12,
        "bandeja_dbt": 123.5,
        "serving_snapshot": 0.18,
    }


def test_peak_sampler_sees_a_child_process_memory() -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; block = bytearray(200_000_000); sys.stdout.write('x'); "
            "sys.stdout.flush(); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        with PeakSampler(child.pid) as sampler:
            assert child.stdout is not None
            child.stdout.read(1)  # the block is allocated and touched
    finally:
        child.communicate(b"")
    assert sampler.peak_mib >= 190


def test_dashboard_bench_replays_every_page(tmp_path: Path) -> None:
    serving = build_fixture_serving(tmp_path / "analytics.duckdb")
    results = dashboard_bench.measure(serving, load_config(REPO / "config" / "bandeja.yaml"), 2)
    assert set(results) == set(dashboard_bench.PAGES)
    for page, row in results.items():
        assert row["p50_ms"] > 0, page
        assert row["p95_ms"] >= row["p50_ms"], page


def test_dashboard_bench_refuses_a_missing_snapshot(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        dashboard_bench.main(["--serving", str(tmp_path / "missing.duckdb")])


def test_waiting_for_a_scheduled_run_returns_its_finished_record(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        run = instance.add_run(
            DagsterRun(job_name="pipeline", run_id="r1", status=DagsterRunStatus.STARTED)
        )
        ender = threading.Timer(0.5, instance.report_run_failed, args=(run,))
        ender.start()
        try:
            record = _wait_for_run_end(instance, run.run_id, tmp_path)
        finally:
            ender.join()
    assert record.is_finished and record.status == DagsterRunStatus.FAILURE
