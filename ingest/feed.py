"""Pull the inbox change feed into the warehouse (`raw.inbox_events`).

The feed is the only door from the inbox into analytics (docs/events.md). Pages arrive as Parquet in
`seq` order and are streamed to temp files by a download thread while DuckDB loads the previous
batch of pages; each batch lands in one transaction together with the cursor, so a crash between
batches loses nothing and a re-run inserts nothing twice.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
MAX_PAGE_SIZE = 50_000
# Events loaded per transaction. Checking a batch for already-seen event_ids scans every stored
# event_id once, so loading page by page would cost O(events) per page: a batch holds at least
# BATCH_EVENTS (large appends also go straight to the database file instead of the WAL) and
# grows with the table (half the stored events) up to MAX_BATCH_EVENTS, so a pull from empty
# scans the table ~10 times instead of once per million events.
BATCH_EVENTS = 1_000_000
MAX_BATCH_EVENTS = 3_000_000
FEED_NAME = "inbox_events"
PULL_MEMORY_LIMIT = "2GB"

# Column order and types of docs/events.md; the warehouse table mirrors the feed exactly.
EVENT_COLUMNS: dict[str, str] = {
    "seq": "BIGINT",
    "event_id": "VARCHAR",
    "event_type": "VARCHAR",
    "occurred_at": "TIMESTAMPTZ",
    "recorded_at": "TIMESTAMPTZ",
    "inbox_id": "VARCHAR",
    "conversation_id": "VARCHAR",
    "contact_id": "VARCHAR",
    "actor_kind": "VARCHAR",
    "actor_id": "VARCHAR",
    "payload": "VARCHAR",
}


class FeedError(RuntimeError):
    """The feed could not be pulled; the message names the URL and what went wrong."""


@dataclass(frozen=True)
class PullResult:
    """`pulled`: rows received from the feed; `new`: rows inserted; `cursor`: max seq stored."""

    pulled: int
    new: int
    cursor: int


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create `raw.inbox_events` and `raw.feed_cursor` when missing (never alters existing ones)."""
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in EVENT_COLUMNS.items())
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(f"CREATE TABLE IF NOT EXISTS raw.inbox_events ({columns})")
    con.execute(
        "CREATE TABLE IF NOT EXISTS raw.feed_cursor ("
        "feed VARCHAR PRIMARY KEY, after_seq BIGINT NOT NULL, updated_at TIMESTAMPTZ NOT NULL)"
    )


def warehouse_cursor(con: duckdb.DuckDBPyConnection) -> int:
    """The last seq already loaded: the feed resumes after it (0 for an empty warehouse)."""
    ensure_raw_tables(con)
    row = con.execute("SELECT coalesce(max(seq), 0) FROM raw.inbox_events").fetchall()
    return int(row[0][0])


def pull_feed(
    api_url: str,
    token: str,
    warehouse: duckdb.DuckDBPyConnection | Path | str,
    page_size: int = MAX_PAGE_SIZE,
    *,
    client: httpx.Client | None = None,
    max_attempts: int = 5,
    backoff_seconds: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> PullResult:
    """Load every feed event after the warehouse cursor; safe to run any number of times.

    `warehouse` is an open DuckDB connection or the path of the warehouse file. Connection errors
    are retried `max_attempts` times with exponential back-off; HTTP errors fail at once with a
    message naming the URL (a wrong token will not fix itself by retrying).
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    with (
        _connection(warehouse) as con,
        _client(client) as http,
        tempfile.TemporaryDirectory(prefix="bandeja-feed-") as spool,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="bandeja-feed") as downloads,
    ):
        ensure_raw_tables(con)
        after = warehouse_cursor(con)
        # Events stored once the batches submitted so far have loaded: sizes the next batch.
        expected = int(con.execute("SELECT count(*) FROM raw.inbox_events").fetchall()[0][0])
        pulled = new = 0
        url = f"{api_url.rstrip('/')}/v1/feed/events"
        headers = {"Authorization": f"Bearer {token}", "Accept": PARQUET_MEDIA_TYPE}
        fetch = _Fetcher(http, url, headers, max_attempts, backoff_seconds, sleep, Path(spool))
        pages = _batch_pages(expected, page_size)
        expected += pages * page_size
        pending: Future[_Batch] = downloads.submit(fetch.batch, after, page_size, pages)
        try:
            while True:
                batch = pending.result()
                if batch.has_more:
                    # The next pages download while this batch loads.
                    pages = _batch_pages(expected, page_size)
                    expected += pages * page_size
                    pending = downloads.submit(fetch.batch, batch.next_after, page_size, pages)
                try:
                    rows, inserted = _load_pages(con, batch.pages, url)
                finally:
                    for page in batch.pages:
                        page.unlink(missing_ok=True)
                pulled += rows
                new += inserted
                if not batch.has_more:
                    break
        except BaseException:
            fetch.cancelled = True
            pending.cancel()
            raise
        return PullResult(pulled=pulled, new=new, cursor=warehouse_cursor(con))


def _batch_pages(stored_events: int, page_size: int) -> int:
    """Pages in the next batch, for a table holding `stored_events`."""
    events = min(MAX_BATCH_EVENTS, max(BATCH_EVENTS, stored_events // 2))
    return max(1, events // page_size)


@contextlib.contextmanager
def _connection(
    warehouse: duckdb.DuckDBPyConnection | Path | str,
) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        yield warehouse
        return
    path = Path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The pull runs in the pipeline's own process, before dbt's: with DuckDB's default (80% of
    # RAM) a 25 M-event pull peaked at 3.2 GB; 1GB made it 1.6x slower (95.8 s vs 58.3 s).
    con = duckdb.connect(str(path), config={"memory_limit": PULL_MEMORY_LIMIT})
    con.execute("SET enable_progress_bar = false")
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def _client(client: httpx.Client | None) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    # Pages of 50k events take a while to serialise; connect fast, read patiently.
    with httpx.Client(timeout=httpx.Timeout(120.0, connect=10.0)) as owned:
        yield owned


@dataclass(frozen=True)
class _Batch:
    pages: list[Path]  # Parquet files in seq order
    next_after: int
    has_more: bool


@dataclass
class _Fetcher:
    http: httpx.Client
    url: str
    headers: dict[str, str]
    max_attempts: int
    backoff_seconds: float
    sleep: Callable[[float], None]
    spool: Path
    cancelled: bool = False

    def batch(self, after: int, limit: int, pages: int) -> _Batch:
        """Download up to `pages` consecutive pages after `after`, each to a spool file."""
        paths: list[Path] = []
        has_more = True
        try:
            while has_more and len(paths) < pages and not self.cancelled:
                path = self.spool / f"page-{after}.parquet"
                next_after, has_more = self._download(after, limit, path)
                paths.append(path)
                if has_more and next_after <= after:
                    raise FeedError(
                        f"{self.url}: X-Next-After={next_after} does not advance past {after}"
                    )
                after = next_after
        except BaseException:
            for path in paths:
                path.unlink(missing_ok=True)
            raise
        return _Batch(pages=paths, next_after=after, has_more=has_more)

    def _download(self, after: int, limit: int, path: Path) -> tuple[int, bool]:
        params = {"after": after, "limit": limit}
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self.http.stream("GET", self.url, params=params, headers=self.headers) as resp:
                    if resp.status_code != 200:
                        resp.read()
                        raise FeedError(_http_error(self.url, resp))
                    content_type = resp.headers.get("content-type", "")
                    if not content_type.startswith(PARQUET_MEDIA_TYPE):
                        raise FeedError(
                            f"{self.url}: expected {PARQUET_MEDIA_TYPE}, got {content_type!r}"
                        )
                    with path.open("wb") as out:
                        for chunk in resp.iter_bytes():
                            out.write(chunk)
                    return _page_headers(self.url, resp, after)
            except httpx.TransportError as exc:
                if attempt == self.max_attempts:
                    raise FeedError(
                        f"{self.url}: unreachable after {attempt} attempts ({exc!r})"
                    ) from exc
                self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable: the loop returns or raises")


def _http_error(url: str, resp: httpx.Response) -> str:
    detail = resp.text[:300].strip()
    if resp.status_code in (401, 403):
        return (
            f"{url}: HTTP {resp.status_code}, the feed token was refused "
            f"(check BANDEJA_FEED_TOKEN): {detail}"
        )
    return f"{url}: HTTP {resp.status_code}: {detail}"


def _page_headers(url: str, resp: httpx.Response, after: int) -> tuple[int, bool]:
    raw_next = resp.headers.get("x-next-after")
    raw_more = resp.headers.get("x-has-more", "").lower()
    if raw_more not in ("true", "false"):
        raise FeedError(f"{url}: missing or invalid X-Has-More header ({raw_more!r})")
    try:
        next_after = int(raw_next) if raw_next is not None else after
    except ValueError as exc:
        raise FeedError(f"{url}: invalid X-Next-After header ({raw_next!r})") from exc
    return next_after, raw_more == "true"


def _load_pages(con: duckdb.DuckDBPyConnection, pages: list[Path], url: str) -> tuple[int, int]:
    """Insert the unseen rows of a batch of pages and advance the cursor, atomically."""
    files = [str(page) for page in pages]
    described = con.execute("DESCRIBE SELECT * FROM read_parquet($1)", [files]).fetchall()
    missing = [name for name in EVENT_COLUMNS if name not in {row[0] for row in described}]
    if missing:
        raise FeedError(f"{url}: the Parquet page lacks columns {', '.join(missing)}")
    select = ", ".join(
        f"CAST({name} AS {sql_type}) AS {name}" for name, sql_type in EVENT_COLUMNS.items()
    )
    con.execute("BEGIN TRANSACTION")
    try:
        rows = con.execute("SELECT count(*) FROM read_parquet($1)", [files]).fetchall()[0][0]
        # Insert only events whose seq and event_id are both unseen: a replayed page, or the same
        # event re-exported under a new seq, changes nothing. seq only grows (assigned at commit),
        # so comparing with the stored maximum avoids joining on seq.
        inserted = con.execute(
            f"""
            INSERT INTO raw.inbox_events
            WITH page AS (
                SELECT {select} FROM read_parquet($1)
                WHERE seq > (SELECT coalesce(max(seq), 0) FROM raw.inbox_events)
                QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY seq) = 1
            )
            SELECT page.* FROM page ANTI JOIN raw.inbox_events seen USING (event_id)
            ORDER BY page.seq
            """,
            [files],
        ).fetchall()[0][0]
        con.execute(
            """
            INSERT OR REPLACE INTO raw.feed_cursor
            SELECT $1, coalesce(max(seq), 0), now() FROM raw.inbox_events
            """,
            [FEED_NAME],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(rows), int(inserted)
