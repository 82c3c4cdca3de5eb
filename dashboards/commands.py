"""`bandeja report` (the weekly CSVs and PDF) and `bandeja dashboard` (the Streamlit app)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboards.kpis import last_complete_week
from inbox_api.settings import Settings
from ingest.config import load_config

APP = Path(__file__).parent / "app.py"


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser(
        "report",
        help="write the weekly CSVs and PDF report for one ISO week",
        description="Write <out>/<ISO week>/ with six CSVs and report.pdf from the serving DB.",
    )
    report.add_argument(
        "--week",
        help="ISO week YYYY-Www (default: the last complete week in the business timezone)",
    )
    report.add_argument("--out", type=Path, help="output folder (default: BANDEJA_REPORTS_DIR)")
    report.set_defaults(handler=run_report)

    dashboard = subparsers.add_parser(
        "dashboard", help="run the supervisors' Streamlit dashboard (headless, no telemetry)"
    )
    dashboard.add_argument("--port", type=int, help="port (default: BANDEJA_DASHBOARD_PORT)")
    dashboard.set_defaults(handler=run_dashboard)


def run_report(args: argparse.Namespace) -> int:
    # Every `bandeja` call imports all command modules; only this one needs reportlab.
    from dashboards.report import build_weekly_report

    settings = Settings()
    config = load_config(settings.config_file)
    week = args.week or last_complete_week(
        dt.datetime.now(ZoneInfo(config.calendar.timezone)).date()
    )
    folder = build_weekly_report(
        settings.serving_db, week, args.out or settings.reports_dir, config
    )
    for path in sorted(folder.iterdir()):
        print(path)
    return 0


def dashboard_command(port: int, address: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # Supervisors need no "Deploy" button or developer menu.
        "--client.toolbarMode",
        "minimal",
    ]


def run_dashboard(args: argparse.Namespace) -> int:
    settings = Settings()
    port = args.port or settings.dashboard_port
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    print(f"dashboard: http://{settings.host}:{port}/", flush=True)
    return subprocess.call(dashboard_command(port, settings.host), env=env)
