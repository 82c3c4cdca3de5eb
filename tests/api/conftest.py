"""The inbox API over HTTP: a real app on a real DuckDB file in tmp, with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from served import served

from inbox_api.app import create_app

from .kit import Api, Clock, make_settings


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(tmp_path: Path, clock: Clock) -> Iterator[Api]:
    app = create_app(make_settings(tmp_path), clock=clock)
    with served(app) as client:
        yield Api(client, clock, tmp_path)
