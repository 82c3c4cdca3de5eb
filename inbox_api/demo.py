"""`make demo`: the whole stack on embedded defaults, with a simulated history and a live trickle.

Each part runs as its own process, exactly as in production: the API (sole writer of
inbox.duckdb), the pipeline (sole writer of warehouse.duckdb, publishing the serving snapshot),
the dashboard and Dagster's UI (readers). The demo only starts them in order and waits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from inbox_api.settings import Settings, get_settings

DAGSTER_PORT = 3000
PIPELINE_EVERY_SECONDS = 120


def _bandeja(*args: str) -> list[str]:
    return [sys.executable, "-m", "inbox_api.cli", *args]


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


def _wait_http(url: str, seconds: float, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} while starting")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not answer at {url} within {seconds:.0f} s")


def _start(args: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    """A long-running child in a process group of its own, so stopping the demo stops what it
    started in turn (`bandeja dashboard` runs Streamlit as its own child)."""
    return subprocess.Popen(args, env=env, start_new_session=True, **kwargs)


def _stop(children: list[subprocess.Popen]) -> None:
    """The newest child first (the live trickle, once everything is up), so it is gone before the
    API it talks to (stopped together, it printed a connection error at every Ctrl-C); then the
    rest together, so Dagster's slow exit is waited for once."""
    if children:
        _interrupt(children[-1:])
        _interrupt(children[-2::-1])


def _interrupt(children: list[subprocess.Popen]) -> None:
    """SIGINT to each child's process group, 20 s to exit, then SIGKILL to whatever is left."""
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGINT)
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (`kill`, a service manager, a closed terminal's SIGHUP) stops the demo as Ctrl-C
    does: the children run in process groups of their own, so no signal to the demo's group
    reaches them, and only the demo's cleanup stops them."""
    raise KeyboardInterrupt


def _step(title: str) -> None:
    print(f"\n==> {title}", flush=True)


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join(args[2:])}` failed with exit code {result.returncode}")


def last_complete_iso_week(settings: Settings, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    last_week = today - dt.timedelta(days=7)
    year, week, _ = last_week.isocalendar()
    return f"{year}-W{week:02d}"


def run_demo(*, days: int, agents: int, seed: int, exit_after_setup: bool = False) -> int:
    settings = get_settings()
    env = {
        **os.environ,
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "DAGSTER_HOME": str((settings.data_dir / ".dagster_home").resolve()),
    }
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    api_url = f"http://{settings.host}:{settings.port}"
    env["BANDEJA_API_URL"] = api_url
    for port, what in ((settings.port, "the API"), (settings.dashboard_port, "the dashboard")):
        if not _port_free(settings.host, port):
            raise RuntimeError(f"port {port} for {what} is taken: stop what runs there first")
    children: list[subprocess.Popen] = []
    handlers = {sig: signal.signal(sig, _terminated) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        _step(f"Starting the inbox API on {api_url}")
        api = _start(_bandeja("serve"), env)
        children.append(api)
        _wait_http(f"{api_url}/health", 60, "the API", api)

        _step(f"Loading {days} days of simulated WhatsApp traffic through the import API")
        _run(
            _bandeja(
                "simulate",
                "history",
                "--days",
                str(days),
                "--agents",
                str(agents),
                "--seed",
                str(seed),
                "--api-url",
                api_url,
            ),
            env,
        )

        _step("Running the metrics pipeline (feed → warehouse → dbt build → serving snapshot)")
        _run(_bandeja("pipeline", "run"), env)

        week = last_complete_iso_week(settings)
        _step(f"Writing last week's report ({week})")
        _run(_bandeja("report", "--week", week), env)

        _step(f"Starting the dashboard on http://{settings.host}:{settings.dashboard_port}")
        dashboard = _start(_bandeja("dashboard", "--port", str(settings.dashboard_port)), env)
        children.append(dashboard)
        _wait_http(
            f"http://{settings.host}:{settings.dashboard_port}/_stcore/health",
            90,
            "the dashboard",
            dashboard,
        )
        if exit_after_setup:
            print("\nDemo set up and checked; stopping (--exit-after-setup).")
            return 0

        # Dagster's schedule refreshes the snapshot; without its UI the demo does it itself.
        dagster_started = _port_free(settings.host, DAGSTER_PORT)
        if dagster_started:
            _step(f"Starting Dagster's UI on http://{settings.host}:{DAGSTER_PORT}")
            dagster = _start(
                _bandeja("pipeline", "ui", "--port", str(DAGSTER_PORT)),
                env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            children.append(dagster)
            # Answering before the banner below names it (it takes ~20 s to load the code).
            try:
                _wait_http(
                    f"http://{settings.host}:{DAGSTER_PORT}/server_info", 180, "Dagster", dagster
                )
            except RuntimeError as exc:
                print(f"warning: {exc}; the demo runs the pipeline itself instead", flush=True)
                children.remove(dagster)
                _interrupt([dagster])
                dagster_started = False
        _step("Starting a live trickle of customers and agents (10x real time)")
        children.append(
            _start(
                _bandeja(
                    "simulate",
                    "live",
                    "--speed",
                    "10",
                    "--minutes",
                    "600",
                    "--api-url",
                    api_url,
                    "--seed",
                    str(seed),
                ),
                env,
            )
        )
        token = settings.admin_token.get_secret_value()
        minutes = (
            settings.pipeline_interval_minutes if dagster_started else PIPELINE_EVERY_SECONDS // 60
        )
        print(
            f"""
Bandeja is running:
  Agents' inbox    {api_url}/inbox   (sign in with the admin token: {token})
  API docs         {api_url}/docs
  Dashboards       http://{settings.host}:{settings.dashboard_port}
  Dagster          http://{settings.host}:{DAGSTER_PORT}
  Weekly report    {settings.reports_dir}/{week}/report.pdf
  Analysts         duckdb {settings.serving_db}
The pipeline refreshes the dashboards every {minutes} minutes. Ctrl-C (or SIGTERM) stops everything.
""",
            flush=True,
        )
        while True:
            time.sleep(PIPELINE_EVERY_SECONDS)
            if not dagster_started:
                subprocess.run(_bandeja("pipeline", "run"), env=env, check=False)
    except KeyboardInterrupt:
        return 0
    finally:
        # a second signal must not cut the cleanup short
        for sig in handlers:
            signal.signal(sig, signal.SIG_IGN)
        _stop(children)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
