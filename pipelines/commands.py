"""`bandeja pipeline run` (once, in-process) and `bandeja pipeline ui` (Dagster's web UI)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from pathlib import Path

from inbox_api.settings import get_settings
from pipelines.runner import PipelineError, PipelineSummary, run_pipeline, run_weekly_report

__all__ = ["PipelineSummary", "dagster_home", "register", "run_pipeline", "run_weekly_report"]

# The instance config `pipeline ui` writes: no telemetry, and one warehouse writer at a time
# (the pool every DuckDB-writing step uses, and the run tag of the pipeline job). Run monitoring
# fails a run whose worker died without ending it, which would otherwise hold the one run slot
# for good (pipelines/launcher.py), and frees the pool slot its step held 10 s after; a run is
# never resumed, the next scheduled one starts over.
DAGSTER_YAML = """\
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
  runs:
    tag_concurrency_limits:
      - key: bandeja/warehouse
        limit: 1
run_monitoring:
  enabled: true
  max_resume_run_attempts: 0
  poll_interval_seconds: 30
  free_slots_after_run_end_seconds: 10
"""
# With warm runs on (`BANDEJA_PIPELINE_WARM_RUNS`, the default), each run forks from the warm
# run host instead of starting a fresh interpreter (pipelines/launcher.py).
WARM_RUNS_YAML = """\
run_launcher:
  module: pipelines.launcher
  class: WarmRunLauncher
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("pipeline", help="run the analytics pipeline or its UI")
    commands = parser.add_subparsers(dest="pipeline_command", required=True, metavar="ACTION")

    run = commands.add_parser("run", help="pull the feed, dbt build and publish, once")
    run.add_argument(
        "--as-of",
        type=_instant,
        default=None,
        help="ISO instant metrics are computed at (default: the last event's time)",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every incremental dbt model from the raw feed (after an upgrade that "
        "changes the models, or a business-calendar change)",
    )
    run.add_argument(
        "--daily",
        action="store_true",
        help="also run the data tests that read whole fact tables (dbt tag `daily`), as the "
        "daily scheduled run does",
    )
    run.add_argument("--verbose", action="store_true", help="show Dagster's and dbt's logs")
    run.set_defaults(handler=_run)

    ui = commands.add_parser("ui", help="start `dagster dev` on the pipeline definitions")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--host", default="127.0.0.1")
    ui.set_defaults(handler=_ui)


def _instant(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO datetime") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no timezone; add Z or +00:00")
    return value


def _run(args: argparse.Namespace) -> int:
    try:
        summary = run_pipeline(
            get_settings(),
            as_of=args.as_of,
            verbose=args.verbose,
            full_refresh=args.full_refresh,
            daily=args.daily,
        )
    except PipelineError as exc:
        for line in exc.summary.lines():
            print(line, file=sys.stderr)
        return 1
    for line in summary.lines():
        print(line)
    return 0


def dagster_home(data_dir: Path, *, warm_runs: bool = True) -> Path:
    """DAGSTER_HOME under the data dir, with the instance config written in."""
    home = (data_dir / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = DAGSTER_YAML + (WARM_RUNS_YAML if warm_runs else "")
    (home / "dagster.yaml").write_text(config, encoding="utf-8")
    return home


def _ui(args: argparse.Namespace) -> int:
    settings = get_settings()
    sibling = Path(sys.executable).parent / "dagster"
    executable = str(sibling) if sibling.exists() else shutil.which("dagster")
    if executable is None:
        print("bandeja pipeline ui: the `dagster` command is not installed", file=sys.stderr)
        return 1
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home(settings.data_dir, warm_runs=settings.pipeline_warm_runs)),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    argv = [executable, "dev", "-m", "pipelines.definitions", "-h", args.host, "-p", str(args.port)]
    os.execve(executable, argv, env)
