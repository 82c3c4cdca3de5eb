"""Shared fixtures: the business config and one generated week (generation is deterministic)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from ingest.config import BusinessConfig, load_config
from ingest.simulator import generate

ROOT = Path(__file__).resolve().parents[2]
# A Wednesday noon (UTC), so the week holds five working days and a weekend.
WEEK_END = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def config() -> BusinessConfig:
    return load_config(ROOT / "config" / "bandeja.yaml")


@pytest.fixture(scope="session")
def week_end() -> dt.datetime:
    return WEEK_END


@pytest.fixture(scope="session")
def week(config: BusinessConfig) -> list[dict[str, Any]]:
    return list(generate(config, 7, 6, 42, WEEK_END))
