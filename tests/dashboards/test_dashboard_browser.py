"""The real thing: `streamlit run` on the fixture snapshot, every page in headless Chromium."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dashboard_helpers import ARTIFACTS, REPO
from playwright.sync_api import Page, sync_playwright
from served import free_port

from dashboards import i18n
from dashboards.commands import dashboard_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# url path → (title key, a text the finished page shows, charts it draws); Spanish because
# config/bandeja.yaml says `language: es`.
PAGES = {
    "": ("page_overview", "4m 00s", 2),  # the default page lives at the root
    "live": ("page_live", "no está disponible", 0),
    "sla": ("page_sla", "80.0%", 2),
    "agents": ("page_agents", "Una fila por agente", 1),
    "peak-hours": ("page_peak", "Promedio de todas las semanas", 2),
    "contact-reasons": ("page_reasons", "Descargar CSV", 2),
    "conversion": ("page_conversion", "1,500.00", 3),
    "drilldown": ("page_drilldown", "10 ciclos", 1),
}
STARTUP_TIMEOUT_S = 60
PAGE_TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make browser)"),
]


@pytest.fixture
def dashboard_url(serving_db: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "BANDEJA_SERVING_DB": str(serving_db),
        "BANDEJA_CONFIG_FILE": str(REPO / "config" / "bandeja.yaml"),
        "BANDEJA_API_URL": f"http://127.0.0.1:{free_port()}",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    log = (tmp_path / "streamlit.log").open("w")
    process = subprocess.Popen(
        dashboard_command(port, "127.0.0.1"), cwd=tmp_path, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            assert process.poll() is None, (tmp_path / "streamlit.log").read_text()
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "streamlit did not become healthy"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _settle(page: Page, title: str, text: str, charts: int) -> None:
    """Wait for the title and the key text, then for the run to end and every element to draw."""
    page.get_by_role("heading", name=title).first.wait_for(timeout=PAGE_TIMEOUT_MS)
    page.get_by_text(text).first.wait_for(timeout=PAGE_TIMEOUT_MS)
    page.wait_for_function(
        """(charts) => !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')
              && !document.querySelector('[data-testid="stSkeleton"]')
              && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                   .filter(chart => chart.querySelector('.main-svg')).length >= charts
              && [...document.querySelectorAll('[data-testid="stDataFrame"]')]
                   .every(frame => !frame.checkVisibility() || frame.querySelector('canvas'))""",
        arg=charts,
        timeout=PAGE_TIMEOUT_MS,
    )


def test_every_page_renders_in_chromium(dashboard_url: str) -> None:
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # Tall: Streamlit scrolls inside its main block, so a full-page shot stops at the fold.
            page = browser.new_page(viewport={"width": 1440, "height": 2200})
            for path, (title_key, text, charts) in PAGES.items():
                page.goto(f"{dashboard_url}/{path}", timeout=PAGE_TIMEOUT_MS)
                shot = shots / f"dashboard-{path or 'overview'}.png"
                try:
                    _settle(page, i18n.t(title_key, "es"), text, charts)
                finally:
                    page.screenshot(path=str(shot))
                exceptions = page.locator('[data-testid="stException"]')
                assert exceptions.count() == 0, (path, exceptions.first.inner_text())
                assert page.get_by_text("Page not found").count() == 0, path
        finally:
            browser.close()
