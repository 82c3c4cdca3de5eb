"""Fixtures for the dashboard and report tests: the fixture snapshot and a clean environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_helpers import REPO
from fixture_serving import build_fixture_serving
from served import free_port


@pytest.fixture(scope="session")
def serving_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_serving(tmp_path_factory.mktemp("serving") / "analytics.duckdb")


@pytest.fixture
def dashboard_env(monkeypatch: pytest.MonkeyPatch, serving_db: Path) -> Iterator[Path]:
    """Point every setting at the fixture; the API URL at a port nobody listens on."""
    monkeypatch.setenv("BANDEJA_SERVING_DB", str(serving_db))
    monkeypatch.setenv("BANDEJA_CONFIG_FILE", str(REPO / "config" / "bandeja.yaml"))
    monkeypatch.setenv("BANDEJA_API_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("BANDEJA_DASHBOARD_TOKEN", "supervisor-test-token")
    monkeypatch.setenv("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    yield serving_db
