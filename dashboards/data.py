"""The dashboards' one data module: cached read-only snapshot connection, cached query results.

The pipeline publishes a new snapshot by replacing the file (os.replace), so the connection is
keyed by the file's inode and mtime: a cheap stat per rerun notices the swap and opens the new
file. DuckDB shares one open database per path within a process, so the old connection must be
closed before the new one is opened, or the "new" connection would still read the old file.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from dashboards import queries
from dashboards.queries import SnapshotError
from inbox_api.settings import Settings
from ingest.config import BusinessConfig, load_config

QUERY_TTL_SECONDS = 300

__all__ = ["SnapshotError", "business_config", "query", "settings", "snapshot_version"]


def settings() -> Settings:
    # Read per rerun (cheap) so a changed environment applies without restarting the server.
    return Settings()


def snapshot_version(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns)


_open_connections: dict[str, duckdb.DuckDBPyConnection] = {}
_open_lock = threading.Lock()


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(path: str, version: tuple[int, int]) -> duckdb.DuckDBPyConnection:
    with _open_lock:
        previous = _open_connections.pop(path, None)
        if previous is not None:
            previous.close()
        connection = queries.connect(Path(path))
        _open_connections[path] = connection
        return connection


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=512, show_spinner=False)
def _cached_query(
    name: str, params: tuple[tuple[str, Any], ...], path: str, version: tuple[int, int]
) -> pl.DataFrame:
    return queries.run(_connection(path, version), name, dict(params))


def query(name: str, **params: Any) -> pl.DataFrame:
    """Rows of `sql/<name>.sql` from the current snapshot; SnapshotError if there is none."""
    path = settings().serving_db
    key = tuple(sorted(params.items()))
    try:
        return _query_current(name, key, path)
    except duckdb.ConnectionException:
        # Another session noticed a newer snapshot and closed this connection: look again.
        return _query_current(name, key, path)


def _query_current(name: str, key: tuple[tuple[str, Any], ...], path: Path) -> pl.DataFrame:
    version = snapshot_version(path)
    if version is None:
        raise SnapshotError(f"no serving snapshot at {path}")
    return _cached_query(name, key, str(path), version)


@st.cache_resource(max_entries=4, show_spinner=False)
def _config(path: str, mtime_ns: int) -> BusinessConfig:
    return load_config(Path(path))


def business_config() -> BusinessConfig:
    path = settings().config_file
    try:
        mtime = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        mtime = 0
    return _config(str(path), mtime)
