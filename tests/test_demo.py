"""`make demo`'s job end to end: API, simulated history, pipeline, report, dashboard."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from served import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_demo_sets_up_the_whole_stack(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BANDEJA_DATA_DIR": str(tmp_path / "data"),
        "BANDEJA_PORT": str(free_port()),
        "BANDEJA_DASHBOARD_PORT": str(free_port()),
    }
    result = subprocess.run(
        [sys.executable, "-m", "inbox_api.cli", "demo", "--days", "7", "--exit-after-setup"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Demo set up and checked" in result.stdout

    serving = tmp_path / "data" / "serving" / "analytics.duckdb"
    with duckdb.connect(str(serving), read_only=True) as con:
        cycles, answered = con.execute(
            "select count(*), count(*) filter (where is_answered) from fct_cycles"
        ).fetchall()[0]
        weeks = con.execute("select count(*) from rpt_kpis_weekly where grain = 'all'").fetchall()
    assert cycles > 500
    assert 0 < answered < cycles
    assert weeks[0][0] >= 1
    reports = list((tmp_path / "data" / "reports").glob("*/report.pdf"))
    assert len(reports) == 1
    assert reports[0].read_bytes().startswith(b"%PDF")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
def test_sigterm_stops_the_demo_and_everything_it_started(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "BANDEJA_DATA_DIR": str(tmp_path / "data"),
        "BANDEJA_PORT": str(port),
        "BANDEJA_DASHBOARD_PORT": str(free_port()),
    }
    demo = subprocess.Popen(
        [sys.executable, "-m", "inbox_api.cli", "demo", "--days", "30"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # the API is up (a child in its own process group) and the history is loading
        deadline = time.monotonic() + 120
        while not _answers(f"http://127.0.0.1:{port}/health"):
            assert demo.poll() is None and time.monotonic() < deadline, demo.stdout.read()
            time.sleep(0.5)
        demo.send_signal(signal.SIGTERM)
        output, _ = demo.communicate(timeout=90)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, output[-3000:]
    assert not _answers(f"http://127.0.0.1:{port}/health"), "the API outlived the demo"
