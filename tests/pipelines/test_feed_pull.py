"""Pulling the real inbox API's change feed into the landing zone: idempotent, crash-safe, loud."""

from __future__ import annotations

import contextlib
import http.server
import io
import itertools
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipeline_api import REPO
from pipeline_events import many_messages, sample_events

from ingest import landing
from ingest.feed import (
    CONCURRENT_PAGES,
    EVENT_COLUMNS,
    EVENT_SCHEMA,
    MAX_PAGE_SIZE,
    PARQUET_MEDIA_TYPE,
    FeedError,
    create_raw_view,
    pull_feed,
)
from ingest.landing import LandedFile, LandingError, LandingZone, merge_groups

VIEW_TYPES = [
    (name, {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}.get(sql, sql))
    for name, sql in EVENT_COLUMNS.items()
]


def _view(zone: Path, warehouse: Path) -> list[tuple]:
    """Every row of `raw.inbox_events` once the view is (re)created over `zone`."""
    with duckdb.connect(str(warehouse)) as con:
        create_raw_view(con, zone)
        return con.execute("SELECT * FROM raw.inbox_events ORDER BY seq").fetchall()


def _view_types(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = 'raw' AND table_name = 'inbox_events' ORDER BY column_index"
        ).fetchall()


def _names(zone: Path) -> list[str]:
    """Everything in the zone but its lock file: landed files, and temporary ones if left."""
    return sorted(path.name for path in zone.iterdir() if path.name != ".lock")


def _windows(zone: Path) -> list[tuple[int, int]]:
    return [(file.first_seq, file.last_seq) for file in landing.landed_files(zone)]


def _feed_ids(api) -> list[tuple[int, str]]:
    """(seq, event_id) of every event, read from the API's JSON feed."""
    ids, after = [], 0
    while True:
        body = httpx.get(
            f"{api.url}/v1/feed/events",
            params={"after": after, "limit": 50_000},
            headers={"Authorization": f"Bearer {api.feed_token}"},
        ).json()
        ids.extend((event["seq"], event["event_id"]) for event in body["events"])
        after = body["next_after"]
        if not body["has_more"]:
            return ids


def test_pull_lands_seq_windows_read_through_a_view_of_the_contract_types(feed_api, tmp_path):
    feed_api.import_events(sample_events())
    stats = feed_api.stats()
    zone, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"

    result = pull_feed(feed_api.url, feed_api.feed_token, zone, page_size=4)

    assert (result.pulled, result.cursor, result.compacted) == (
        stats["count"],
        stats["max_seq"],
        0,
    )
    last = stats["max_seq"]
    expected = [(first, min(first + 3, last)) for first in range(1, last + 1, 4)]
    assert _windows(zone) == expected
    assert _names(zone)[0] == "events-000000000001-000000000004.parquet"
    rows = _view(zone, warehouse)
    assert [row[0] for row in rows] == list(range(1, last + 1))
    assert _view_types(warehouse) == VIEW_TYPES
    with duckdb.connect(str(warehouse), read_only=True) as con:
        imported = con.execute(
            "SELECT event_id, payload::JSON->>'direction' FROM raw.inbox_events "
            "WHERE event_id = 'msg:wamid.in1'"
        ).fetchall()
        view_sql = con.execute(
            "SELECT sql FROM duckdb_views() "
            "WHERE schema_name = 'raw' AND view_name = 'inbox_events'"
        ).fetchall()[0][0]
    assert imported == [("msg:wamid.in1", "inbound")]
    # An absolute path: the warehouse reads the same files from any working directory.
    assert str(zone.resolve() / "events-*.parquet") in view_sql


def test_pulling_twice_changes_nothing(feed_api, tmp_path):
    feed_api.import_events(sample_events())
    zone = tmp_path / "landing"
    first = pull_feed(feed_api.url, feed_api.feed_token, zone)
    before = {name: (zone / name).stat() for name in _names(zone)}

    again = pull_feed(feed_api.url, feed_api.feed_token, zone)

    assert (again.pulled, again.cursor) == (0, first.cursor)
    after = {name: (zone / name).stat() for name in _names(zone)}
    assert {name: (s.st_ino, s.st_mtime_ns) for name, s in after.items()} == {
        name: (s.st_ino, s.st_mtime_ns) for name, s in before.items()
    }


def test_the_cursor_resumes_after_the_last_landed_event(feed_api, tmp_path):
    events = sample_events()
    zone = tmp_path / "landing"
    feed_api.import_events(events[:5])
    first = pull_feed(feed_api.url, feed_api.feed_token, zone)
    feed_api.import_events(events[5:])
    stats = feed_api.stats()

    second = pull_feed(feed_api.url, feed_api.feed_token, zone, page_size=2)

    assert first.cursor < stats["max_seq"]
    assert second.pulled == stats["count"] - first.pulled
    assert second.cursor == stats["max_seq"]
    assert _windows(zone)[0] == (1, first.cursor)
    seqs = [row[0] for row in _view(zone, tmp_path / "warehouse.duckdb")]
    assert seqs == list(range(1, stats["max_seq"] + 1))


def test_concurrent_pages_land_every_event_exactly_once(feed_api, tmp_path):
    feed_api.import_events(many_messages(200))
    feed_ids = _feed_ids(feed_api)
    in_flight, most = 0, 0
    lock = threading.Lock()

    def sent(_request):
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)

    def answered(_response):
        nonlocal in_flight
        with lock:
            in_flight -= 1

    page_size = len(feed_ids) // 15 + 1  # 15 files: no compaction yet
    zone = tmp_path / "landing"
    hooks = {"request": [sent], "response": [answered]}
    with httpx.Client(timeout=30.0, event_hooks=hooks) as client:
        result = pull_feed(feed_api.url, feed_api.feed_token, zone, page_size, client=client)

    assert most == CONCURRENT_PAGES
    assert result.pulled == len(feed_ids)
    windows = _windows(zone)
    assert len(windows) == -(-len(feed_ids) // page_size) <= landing.MAX_SMALL_FILES
    # Consecutive windows, each one page: no seq in two files, none missing.
    assert all(nxt[0] == prev[1] + 1 for prev, nxt in itertools.pairwise(windows))
    rows = _view(zone, tmp_path / "warehouse.duckdb")
    assert [(row[0], row[1]) for row in rows] == feed_ids


def test_a_pull_killed_mid_way_resumes_to_the_same_events(feed_api, tmp_path):
    feed_api.import_events(many_messages(300))
    zone = tmp_path / "landing"
    code = (
        "import sys; from ingest.feed import pull_feed; "
        "pull_feed(sys.argv[1], sys.argv[2], sys.argv[3], page_size=1)"
    )
    pull = subprocess.Popen(
        [sys.executable, "-c", code, feed_api.url, feed_api.feed_token, str(zone)], cwd=REPO
    )
    try:
        deadline = time.monotonic() + 60
        while len(landing.landed_files(zone) if zone.exists() else []) < 5:
            assert pull.poll() is None and time.monotonic() < deadline, "the pull never landed"
            time.sleep(0.005)
    finally:
        pull.send_signal(signal.SIGKILL)
        pull.wait()
    killed_at = max(file.last_seq for file in landing.landed_files(zone))
    # What a kill during a download leaves: a temporary file with half a page in it.
    (zone / ".0a1b2c3d.part").write_bytes(b"PAR1\x15\x04half a page")

    resumed = pull_feed(feed_api.url, feed_api.feed_token, zone)

    assert killed_at < feed_api.stats()["max_seq"]
    fresh = tmp_path / "fresh"
    pull_feed(feed_api.url, feed_api.feed_token, fresh)
    assert resumed.cursor == feed_api.stats()["max_seq"]
    assert _view(zone, tmp_path / "w1.duckdb") == _view(fresh, tmp_path / "w2.duckdb")
    assert not [name for name in _names(zone) if name.endswith(".part")]


def test_a_crash_inside_a_compaction_or_between_pages_resumes_to_the_same_events(
    feed_api, tmp_path
):
    feed_api.import_events(sample_events())
    reference = tmp_path / "reference"
    pull_feed(feed_api.url, feed_api.feed_token, reference, page_size=2)
    crashed = tmp_path / "crashed"
    shutil.copytree(reference, crashed)
    files = landing.landed_files(crashed)
    # A compaction that renamed its merged file into place, then died before removing sources.
    merged = crashed / landing.file_name(files[1].first_seq, files[3].last_seq)
    with duckdb.connect() as con:
        con.read_parquet([str(file.path) for file in files[1:4]]).write_parquet(str(merged))
    # A pull that died before landing its last two pages, one of them half downloaded.
    for file in files[-2:]:
        file.path.unlink()
    (crashed / ".deadbeef.part").write_bytes(b"PAR1")

    resumed = pull_feed(feed_api.url, feed_api.feed_token, crashed, page_size=2)

    assert resumed.pulled == files[-1].last_seq - files[-2].first_seq + 1
    assert _view(crashed, tmp_path / "w1.duckdb") == _view(reference, tmp_path / "w2.duckdb")
    assert merged.name in _names(crashed)
    assert not {file.path.name for file in files[1:4]} & set(_names(crashed))
    assert not [name for name in _names(crashed) if name.endswith(".part")]


def test_compaction_merges_small_files_and_keeps_every_event(feed_api, tmp_path):
    feed_api.import_events(sample_events())
    stats = feed_api.stats()
    zone, reference = tmp_path / "landing", tmp_path / "reference"
    pull_feed(feed_api.url, feed_api.feed_token, reference)

    # One event a file: more than MAX_SMALL_FILES small files, merged once landed.
    result = pull_feed(feed_api.url, feed_api.feed_token, zone, page_size=1)

    assert stats["count"] > landing.MAX_SMALL_FILES
    assert result.compacted == stats["count"]
    assert _windows(zone) == [(1, stats["max_seq"])]
    assert _view(zone, tmp_path / "w1.duckdb") == _view(reference, tmp_path / "w2.duckdb")
    assert pq.read_schema(landing.landed_files(zone)[0].path).equals(EVENT_SCHEMA)

    feed_api.import_events(many_messages(3))
    more = feed_api.stats()["count"] - stats["count"]
    incremental = pull_feed(feed_api.url, feed_api.feed_token, zone, page_size=1)

    assert (incremental.pulled, incremental.compacted) == (more, 0)
    assert len(_windows(zone)) == 1 + more
    assert len(_view(zone, tmp_path / "w1.duckdb")) == stats["count"] + more


def _file(first: int, last: int) -> LandedFile:
    return LandedFile(first, last, Path(landing.file_name(first, last)))


def test_merge_groups_wait_for_enough_small_files_and_stop_at_a_full_page():
    tiny = [_file(seq, seq) for seq in range(1, 18)]
    assert merge_groups(tiny[:16]) == []
    assert merge_groups(tiny) == [tiny]

    full = _file(18, 18 + landing.SMALL_FILE_SEQS)  # not small: breaks a run
    step = landing.MERGED_FILE_SEQS * 2 // 5
    first = full.last_seq + 1
    large = [_file(first + n * step, first + (n + 1) * step - 1) for n in range(3)]

    assert merge_groups([*tiny, full, *large]) == [tiny, large[:2]]


def test_a_file_is_never_landed_over_seqs_already_landed(tmp_path):
    with LandingZone(tmp_path / "landing") as zone:
        temp = zone.temp_path()
        temp.write_bytes(b"page")
        zone.land(temp, 1, 10)
        again = zone.temp_path()
        again.write_bytes(b"page")
        with pytest.raises(LandingError, match="already holds seqs up to 10"):
            zone.land(again, 5, 12)
        assert zone.cursor == 10


def test_overlapping_or_foreign_files_stop_the_pull(tmp_path):
    zone = tmp_path / "landing"
    zone.mkdir()
    (zone / landing.file_name(1, 10)).write_bytes(b"")
    (zone / landing.file_name(5, 12)).write_bytes(b"")
    with pytest.raises(LandingError, match="overlap"), LandingZone(zone):
        pass
    (zone / landing.file_name(5, 12)).unlink()
    (zone / "events-copy.parquet").write_bytes(b"")
    with pytest.raises(LandingError, match=r"events-copy\.parquet"), LandingZone(zone):
        pass


@contextlib.contextmanager
def _producer(body: bytes, next_after: int) -> Iterator[str]:
    """A stand-in feed that answers every request with one page: a producer that breaks the
    contract, which the real API never does."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", PARQUET_MEDIA_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Next-After", str(next_after))
            self.send_header("X-Has-More", "false")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _page(**columns: pa.Array) -> bytes:
    """A two-event page (seqs 1 and 2) in the contract's types, with `columns` replaced."""
    base = {
        "seq": pa.array([1, 2], pa.int64()),
        "event_id": pa.array(["a", "b"]),
        "event_type": pa.array(["note", "note"]),
        "occurred_at": pa.array([0, 1_000_000], pa.timestamp("us", tz="UTC")),
        "recorded_at": pa.array([0, 1_000_000], pa.timestamp("us", tz="UTC")),
        **{name: pa.array([None, None], pa.string()) for name in EVENT_SCHEMA.names[5:10]},
        "payload": pa.array(["{}", "{}"]),
    }
    base.update(columns)
    buffer = io.BytesIO()
    pq.write_table(
        pa.table({name: array for name, array in base.items() if array is not None}), buffer
    )
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (_page(payload=None), "the Parquet page lacks columns payload"),
        (
            _page(seq=pa.array(["one", "two"])),
            "column seq is string, which does not cast to BIGINT",
        ),
        (
            _page(occurred_at=pa.array([[1], [2]])),
            "column occurred_at is list<element: int64>, which does not cast to TIMESTAMPTZ",
        ),
        (b"<html>Bad gateway</html>", "the page is not a Parquet file"),
        (_page(seq=pa.array([2, 1])), "seqs are not strictly increasing"),
        (_page(seq=pa.array([7, 8])), "holds seqs 7..8, outside its window (0, 2]"),
    ],
    ids=["missing-column", "wrong-type", "uncastable-type", "not-parquet", "unordered", "window"],
)
def test_a_page_that_breaks_the_contract_is_refused_and_never_landed(tmp_path, body, complaint):
    zone = tmp_path / "landing"
    with _producer(body, next_after=2) as url, pytest.raises(FeedError) as error:
        pull_feed(url, "token", zone)

    assert f"{url}/v1/feed/events: " in str(error.value)
    assert complaint in str(error.value)
    assert _names(zone) == []


def test_a_page_in_castable_types_lands_in_the_contract_types(tmp_path):
    body = _page(
        seq=pa.array([1, 2], pa.int32()),
        occurred_at=pa.array([0, 1], pa.timestamp("ms", tz="UTC")),
        recorded_at=pa.array(["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"]),
    )
    zone = tmp_path / "landing"
    with _producer(body, next_after=2) as url:
        result = pull_feed(url, "token", zone)

    assert (result.pulled, result.cursor) == (2, 2)
    assert pq.read_schema(landing.landed_files(zone)[0].path).equals(EVENT_SCHEMA)
    rows = _view(zone, tmp_path / "warehouse.duckdb")
    assert [(row[0], row[3].timestamp(), row[4].isoformat()) for row in rows] == [
        (1, 0.0, "2026-01-01T00:00:00+00:00"),
        (2, 0.001, "2026-01-01T00:00:01+00:00"),
    ]


def test_an_empty_feed_gives_an_empty_view_of_the_contract_types(tmp_path):
    empty = _page(**{field.name: pa.array([], field.type) for field in EVENT_SCHEMA})
    zone, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    with _producer(empty, next_after=0) as url:
        result = pull_feed(url, "token", zone)

    assert (result.pulled, result.cursor) == (0, 0)
    assert _names(zone) == []
    assert _view(zone, warehouse) == []
    assert _view_types(warehouse) == VIEW_TYPES


def test_the_view_replaces_the_raw_table_of_older_warehouses(feed_api, tmp_path):
    feed_api.import_events(sample_events())
    zone, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE TABLE raw.inbox_events (seq BIGINT, event_id VARCHAR)")
        con.execute("CREATE TABLE raw.feed_cursor (feed VARCHAR, after_seq BIGINT)")
    pull_feed(feed_api.url, feed_api.feed_token, zone)

    assert len(_view(zone, warehouse)) == feed_api.stats()["count"]
    assert _view_types(warehouse) == VIEW_TYPES
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT table_name FROM duckdb_tables()").fetchall() == []


def test_a_bad_token_names_the_url_and_the_token(feed_api, tmp_path):
    with pytest.raises(FeedError) as error:
        pull_feed(feed_api.url, "wrong-token", tmp_path / "landing")

    assert f"{feed_api.url}/v1/feed/events" in str(error.value)
    assert "HTTP 401" in str(error.value)
    assert "BANDEJA_FEED_TOKEN" in str(error.value)
    assert _names(tmp_path / "landing") == []


def test_connection_errors_are_retried_with_back_off_then_reported(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    waits: list[float] = []

    with pytest.raises(FeedError) as error:
        pull_feed(
            f"http://127.0.0.1:{port}",
            "token",
            tmp_path / "landing",
            max_attempts=4,
            backoff_seconds=0.5,
            sleep=waits.append,
        )

    # The page requested ahead retries on its own too, unless it is dropped before it starts.
    assert sorted(waits) in ([0.5, 1.0, 2.0], [0.5, 0.5, 1.0, 1.0, 2.0, 2.0])
    url = f"http://127.0.0.1:{port}/v1/feed/events"
    assert f"{url}: unreachable after 4 attempts" in str(error.value)


def test_page_size_outside_the_feed_limit_is_refused(tmp_path):
    with pytest.raises(ValueError, match="page_size"):
        pull_feed("http://127.0.0.1:9", "token", tmp_path / "landing", page_size=MAX_PAGE_SIZE + 1)
