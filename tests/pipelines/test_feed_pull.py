"""Pulling the real inbox API's change feed into the warehouse: idempotent, resumable, loud."""

from __future__ import annotations

import socket
import tempfile

import duckdb
import pytest
from pipeline_events import sample_events

from ingest import feed
from ingest.feed import EVENT_COLUMNS, FeedError, ensure_raw_tables, pull_feed


def _rows(warehouse) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT * FROM raw.inbox_events ORDER BY seq").fetchall()


def test_pull_loads_every_event_with_the_contract_types(feed_api, tmp_path):
    feed_api.import_events(sample_events())
    stats = feed_api.stats()
    warehouse = tmp_path / "warehouse.duckdb"

    result = pull_feed(feed_api.url, feed_api.feed_token, warehouse, page_size=4)

    assert (result.pulled, result.new, result.cursor) == (
        stats["count"],
        stats["count"],
        stats["max_seq"],
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE schema_name = 'raw' AND table_name = 'inbox_events'"
            ).fetchall()
        )
        cursor = con.execute("SELECT after_seq FROM raw.feed_cursor").fetchall()
        imported = con.execute(
            "SELECT event_id, payload::JSON->>'direction' FROM raw.inbox_events "
            "WHERE event_id = 'msg:wamid.in1'"
        ).fetchall()
    assert types == {
        name: {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}.get(sql, sql)
        for name, sql in EVENT_COLUMNS.items()
    }
    assert cursor == [(stats["max_seq"],)]
    assert imported == [("msg:wamid.in1", "inbound")]


def test_pulling_twice_changes_nothing(feed_api, tmp_path):
    feed_api.import_events(sample_events())
    warehouse = tmp_path / "warehouse.duckdb"
    pull_feed(feed_api.url, feed_api.feed_token, warehouse)
    before = _rows(warehouse)

    again = pull_feed(feed_api.url, feed_api.feed_token, warehouse)

    assert (again.pulled, again.new) == (0, 0)
    assert _rows(warehouse) == before


def test_an_event_already_loaded_under_another_seq_is_not_inserted_again(feed_api, tmp_path):
    feed_api.import_events(sample_events())
    stats = feed_api.stats()
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_tables(con)
        con.execute(
            "INSERT INTO raw.inbox_events (seq, event_id, event_type, occurred_at, recorded_at) "
            "VALUES (0, 'msg:wamid.in1', 'message', now(), now())"
        )

    result = pull_feed(feed_api.url, feed_api.feed_token, warehouse)

    assert (result.pulled, result.new) == (stats["count"], stats["count"] - 1)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        copies = con.execute(
            "SELECT count(*) FROM raw.inbox_events WHERE event_id = 'msg:wamid.in1'"
        ).fetchall()
    assert copies == [(1,)]


def test_the_cursor_resumes_after_the_last_loaded_event(feed_api, tmp_path):
    events = sample_events()
    warehouse = tmp_path / "warehouse.duckdb"
    feed_api.import_events(events[:5])
    first = pull_feed(feed_api.url, feed_api.feed_token, warehouse)
    feed_api.import_events(events[5:])
    stats = feed_api.stats()

    second = pull_feed(feed_api.url, feed_api.feed_token, warehouse, page_size=2)

    assert first.cursor < stats["max_seq"]
    assert second.new == second.pulled == stats["count"] - first.new
    assert second.cursor == stats["max_seq"]
    seqs = [row[0] for row in _rows(warehouse)]
    assert len(seqs) == len(set(seqs)) == stats["count"]


def test_a_bad_token_names_the_url_and_the_token(feed_api, tmp_path):
    with pytest.raises(FeedError) as error:
        pull_feed(feed_api.url, "wrong-token", tmp_path / "warehouse.duckdb")

    assert f"{feed_api.url}/v1/feed/events" in str(error.value)
    assert "HTTP 401" in str(error.value)
    assert "BANDEJA_FEED_TOKEN" in str(error.value)


def test_connection_errors_are_retried_with_back_off_then_reported(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    waits: list[float] = []

    with pytest.raises(FeedError) as error:
        pull_feed(
            f"http://127.0.0.1:{port}",
            "token",
            tmp_path / "w.duckdb",
            max_attempts=4,
            backoff_seconds=0.5,
            sleep=waits.append,
        )

    assert waits == [0.5, 1.0, 2.0]
    url = f"http://127.0.0.1:{port}/v1/feed/events"
    assert f"{url}: unreachable after 4 attempts" in str(error.value)


def test_page_size_outside_the_feed_limit_is_refused(tmp_path):
    with pytest.raises(ValueError, match="page_size"):
        pull_feed("http://127.0.0.1:9", "token", tmp_path / "w.duckdb", page_size=50_001)


def test_pages_load_in_batches_and_a_failed_batch_keeps_the_ones_before(
    feed_api, tmp_path, monkeypatch
):
    feed_api.import_events(sample_events())
    stats = feed_api.stats()
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    monkeypatch.setattr(feed, "BATCH_EVENTS", 8)  # 2 pages of 4 per transaction
    loads: list[int] = []
    real_load = feed._load_pages

    def failing_second_load(con, pages, url):
        loads.append(len(pages))
        if len(loads) == 2:
            raise RuntimeError("disk full")
        return real_load(con, pages, url)

    monkeypatch.setattr(feed, "_load_pages", failing_second_load)
    warehouse = tmp_path / "warehouse.duckdb"
    with pytest.raises(RuntimeError, match="disk full"):
        pull_feed(feed_api.url, feed_api.feed_token, warehouse, page_size=4)
    first_batch = _rows(warehouse)
    assert len(first_batch) == 8 and loads == [2, 2]
    assert list(spool.iterdir()) == []

    monkeypatch.setattr(feed, "_load_pages", real_load)
    resumed = pull_feed(feed_api.url, feed_api.feed_token, warehouse, page_size=4)
    assert (resumed.new, resumed.cursor) == (stats["count"] - 8, stats["max_seq"])
    fresh = tmp_path / "fresh.duckdb"
    pull_feed(feed_api.url, feed_api.feed_token, fresh)
    assert _rows(warehouse) == _rows(fresh)
    assert list(spool.iterdir()) == []


def test_batches_grow_with_the_table_up_to_a_cap():
    assert feed._batch_pages(0, 50_000) == feed.BATCH_EVENTS // 50_000
    assert feed._batch_pages(4_000_000, 50_000) == 2_000_000 // 50_000
    assert feed._batch_pages(100_000_000, 50_000) == feed.MAX_BATCH_EVENTS // 50_000
    assert feed._batch_pages(0, 50_000_000) == 1
