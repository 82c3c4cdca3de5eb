"""Named SQL files over the serving snapshot, run with bound parameters, returned as Polars.

Shared by the Streamlit pages (through `dashboards.data`, which adds caching) and the weekly
report, so both read the same rows the same way.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

SQL_DIR = Path(__file__).parent / "sql"
_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


class SnapshotError(RuntimeError):
    """The serving snapshot is missing or lacks a table/column of docs/serving.md."""


@cache
def sql_text(name: str) -> str:
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise ValueError(f"no query named {name!r} in {SQL_DIR}")
    return path.read_text(encoding="utf-8")


@cache
def parameter_names(name: str) -> frozenset[str]:
    return frozenset(_PARAMETER.findall(sql_text(name)))


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pl.DataFrame:
    """Run `sql/<name>.sql` on its own cursor; `params` may hold more keys than the query uses."""
    needed = parameter_names(name)
    missing = needed - params.keys()
    if missing:
        raise ValueError(f"query {name!r} needs parameters {sorted(missing)}")
    bound = {key: params[key] for key in needed}
    cursor = con.cursor()
    try:
        return cursor.sql(sql_text(name), params=bound).pl()
    except duckdb.CatalogException as exc:
        raise SnapshotError(f"the serving snapshot does not match docs/serving.md: {exc}") from exc
    finally:
        cursor.close()


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the snapshot read-only: the pipeline replaces the file, it is never written here."""
    if not path.is_file():
        raise SnapshotError(f"no serving snapshot at {path}; run the pipeline first")
    return duckdb.connect(str(path), read_only=True)
