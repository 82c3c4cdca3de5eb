"""Fixtures for the pipeline tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pipeline_api import FeedApi, serve_inbox_api


@pytest.fixture
def feed_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeedApi]:
    """The real inbox API on a free loopback port, with its own empty event store."""
    with serve_inbox_api(tmp_path_factory.mktemp("inbox")) as api:
        yield api
