"""Bulk mode on a small size: row counts, the import schema, contract-valid rows, determinism."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import polars as pl
import pytest

from ingest.config import BusinessConfig
from ingest.simulator import IMPORT_COLUMNS, IMPORT_SCHEMA, summarize, validate_event, write_bulk
from ingest.simulator.bulk import MAX_BATCH_ROWS

END = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def _rows(frame: pl.DataFrame) -> list[dict]:
    rows = frame.with_columns(
        pl.col("occurred_at").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00")
    ).to_dicts()
    for row in rows:
        row["payload"] = orjson.loads(row["payload"])
    return rows


@pytest.fixture(scope="module")
def bulk(tmp_path_factory: pytest.TempPathFactory, config: BusinessConfig):
    out = tmp_path_factory.mktemp("bulk")
    stats = write_bulk(out, 120_000, 3, config, END)
    return out, stats


def test_counts_and_files(bulk) -> None:
    out, stats = bulk
    files = sorted(out.glob("events-*.parquet"))
    assert len(files) == stats.files >= 5
    frame = pl.read_parquet(files)
    assert frame.height == stats.events
    messages = frame.filter(pl.col("event_type") == "message").height
    assert messages == stats.messages
    assert 120_000 <= messages < 140_000
    assert 8 < messages / stats.cycles < 13
    assert all(pl.read_parquet_schema(f) == IMPORT_SCHEMA for f in files)
    assert all(
        pl.scan_parquet(f).select(pl.len()).collect().item() <= MAX_BATCH_ROWS for f in files
    )
    assert frame.columns == list(IMPORT_COLUMNS)
    assert frame["event_id"].n_unique() == frame.height
    assert frame["occurred_at"].max() < END


def test_rows_follow_the_contract(bulk, config: BusinessConfig) -> None:
    out, _ = bulk
    frame = pl.read_parquet(sorted(out.glob("events-*.parquet")))
    sample = pl.concat(
        [group.head(300) for _, group in frame.group_by("event_type", maintain_order=True)]
    )
    problems = {row["event_id"]: validate_event(row) for row in _rows(sample)}
    assert {k: v for k, v in problems.items() if v} == {}
    summary = summarize(_rows(frame.head(200_000)), config)
    assert summary.cycles > 5_000
    assert 0.3 < summary.csat_response_rate < 0.36


def test_same_seed_same_files(tmp_path: Path, config: BusinessConfig) -> None:
    first = write_bulk(tmp_path / "a", 20_000, 9, config, END)
    second = write_bulk(tmp_path / "b", 20_000, 9, config, END)
    assert first.events == second.events
    a = pl.read_parquet(sorted((tmp_path / "a").glob("*.parquet")))
    b = pl.read_parquet(sorted((tmp_path / "b").glob("*.parquet")))
    assert a.equals(b)


def test_refuses_a_used_folder_and_bad_sizes(tmp_path: Path, config: BusinessConfig) -> None:
    write_bulk(tmp_path, 1_000, 1, config, END)
    with pytest.raises(FileExistsError, match="already holds"):
        write_bulk(tmp_path, 1_000, 1, config, END)
    with pytest.raises(ValueError, match="messages"):
        write_bulk(tmp_path / "x", 0, 1, config, END)
