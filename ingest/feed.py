"""Pull the inbox change feed into the landing zone, and the warehouse view that reads it.

The feed is the only door from the inbox into analytics (docs/events.md). Parquet pages are
downloaded two at a time once one came back full (the API serves each on its own thread, so both
cores work), checked
against the contract, and landed in seq order as files named by their seq window
(`ingest/landing.py`); the warehouse reads them through the view `raw.inbox_events`. The highest
seq landed is the cursor, so a pull interrupted anywhere resumes where it stopped and a second
pull lands nothing. The inbox guarantees each event once (`event_id` unique, `seq` dense); dbt's
staging models still deduplicate by event id, so a producer bug would be counted once.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.landing import COMPRESSION, FILE_GLOB, LandingZone, landed_files, sync_file

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
# The feed's largest Parquet page. Measured on 25 M events: 500 000-event pages (~18 MB) spent
# 0.22 s in the query and 0.18 s encoding, 10x fewer requests than 50 000.
MAX_PAGE_SIZE = 500_000
CONCURRENT_PAGES = 2

# Column order and types of docs/events.md; the warehouse view has exactly these.
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
_ARROW_TYPES = {
    "BIGINT": pa.int64(),
    "VARCHAR": pa.string(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
}
EVENT_SCHEMA = pa.schema([(name, _ARROW_TYPES[sql]) for name, sql in EVENT_COLUMNS.items()])


class FeedError(RuntimeError):
    """The feed could not be pulled; the message names the URL and what went wrong."""


@dataclass(frozen=True)
class PullResult:
    """`pulled`: events landed by this pull; `cursor`: the highest seq landed;
    `compacted`: small files merged into larger ones."""

    pulled: int
    cursor: int
    compacted: int


def pull_feed(
    api_url: str,
    token: str,
    landing: Path | str,
    page_size: int = MAX_PAGE_SIZE,
    *,
    client: httpx.Client | None = None,
    max_attempts: int = 5,
    backoff_seconds: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> PullResult:
    """Land every feed event after the landing zone's cursor; safe to run any number of times.

    `landing` is the landing directory (`ingest.landing.landing_dir(data_dir)`). Connection
    errors are retried `max_attempts` times with exponential back-off; HTTP errors and pages that
    break the contract fail at once with a message naming the URL (a wrong token will not fix
    itself by retrying), and nothing of that page is landed.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    url = f"{api_url.rstrip('/')}/v1/feed/events"
    headers = {"Authorization": f"Bearer {token}", "Accept": PARQUET_MEDIA_TYPE}
    with (
        LandingZone(Path(landing)) as zone,
        _client(client) as http,
        ThreadPoolExecutor(CONCURRENT_PAGES, thread_name_prefix="bandeja-feed") as downloads,
    ):
        fetch = _Fetcher(http, url, headers, max_attempts, backoff_seconds, sleep, zone)
        pulled = 0
        with contextlib.closing(_pages(fetch, downloads, zone.cursor, page_size)) as pages:
            for page in pages:
                if page.rows:
                    zone.land(page.path, page.after + 1, page.next_after)
                    pulled += page.rows
                else:
                    page.path.unlink(missing_ok=True)
        compacted = zone.compact()
        return PullResult(pulled=pulled, cursor=zone.cursor, compacted=compacted)


def create_raw_view(con: duckdb.DuckDBPyConnection, landing: Path | str) -> None:
    """(Re)create the view `raw.inbox_events` over the landed files, in the contract's types.

    The path is absolute, so the warehouse reads the same files from any working directory, and
    a data directory moved elsewhere heals at the next run. With no file yet the view is empty
    but typed (`read_parquet` refuses a glob that matches nothing). A `raw.inbox_events` table
    and `raw.feed_cursor` from before the landing zone are dropped: their events were pulled
    again, into files, by this run.
    """
    directory = Path(landing).resolve()
    casts = ", ".join(f"CAST({name} AS {sql}) AS {name}" for name, sql in EVENT_COLUMNS.items())
    if landed_files(directory):
        glob = str(directory / FILE_GLOB).replace("'", "''")
        # No hive partitioning: a `key=value` folder in the data directory's path is not a column.
        source = f"read_parquet('{glob}', hive_partitioning = false)"
    else:
        nulls = ", ".join(f"NULL AS {name}" for name in EVENT_COLUMNS)
        source = f"(SELECT {nulls}) AS no_files_yet WHERE false"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        legacy = con.execute(
            "SELECT count(*) FROM duckdb_tables() "
            "WHERE schema_name = 'raw' AND table_name = 'inbox_events'"
        ).fetchall()[0][0]
        if legacy:
            con.execute("DROP TABLE raw.inbox_events")
        con.execute("DROP TABLE IF EXISTS raw.feed_cursor")
        con.execute(f"CREATE OR REPLACE VIEW raw.inbox_events AS SELECT {casts} FROM {source}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


@dataclass(frozen=True)
class _Page:
    after: int
    next_after: int
    has_more: bool
    rows: int
    path: Path  # a temporary file in the landing zone, checked and synced


def _pages(
    fetch: _Fetcher, downloads: ThreadPoolExecutor, after: int, limit: int
) -> Iterator[_Page]:
    """The pages after `after` in seq order, the next one downloading while one is handed out.

    The window after a full page is known before the page arrives (the feed's `X-Next-After` is
    `after + limit` while a window is complete), so the next request starts at once. When the
    server cuts a window short, the page requested ahead asked for the wrong window: it is
    dropped and the next request starts from the server's cursor instead.

    The first page is requested alone: an incremental pull is one short page, and a request
    ahead of it would only ask for an empty window, at the cost of a second token check and
    query on the API (a freshly started API served one page in 0.42 s, the two in 0.77 s).
    Requests go ahead once a page came back full.
    """
    pending: deque[Future[_Page]] = deque()
    next_request = after
    ahead = 1
    try:
        while True:
            while len(pending) < ahead:
                pending.append(downloads.submit(fetch.page, next_request, limit))
                next_request += limit
            page = pending.popleft().result()
            if page.has_more and page.next_after <= page.after:
                page.path.unlink(missing_ok=True)
                raise FeedError(
                    f"{fetch.url}: X-Next-After={page.next_after} does not advance past "
                    f"{page.after}"
                )
            yield page
            if not page.has_more:
                return
            if page.next_after != page.after + limit:
                _drop(pending)
                next_request = page.next_after
            else:
                ahead = CONCURRENT_PAGES
    finally:
        _drop(pending)


def _drop(pending: deque[Future[_Page]]) -> None:
    """Wait for pages requested ahead and delete their files; their errors no longer matter."""
    while pending:
        future = pending.popleft()
        if future.cancel():
            continue
        with contextlib.suppress(Exception):
            future.result().path.unlink(missing_ok=True)


@contextlib.contextmanager
def _client(client: httpx.Client | None) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    # Pages of 500k events take a while to serialise; connect fast, read patiently.
    with httpx.Client(timeout=httpx.Timeout(120.0, connect=10.0)) as owned:
        yield owned


@dataclass
class _Fetcher:
    http: httpx.Client
    url: str
    headers: dict[str, str]
    max_attempts: int
    backoff_seconds: float
    sleep: Callable[[float], None]
    zone: LandingZone

    def page(self, after: int, limit: int) -> _Page:
        """Download the page after `after` to a temporary file, check it, sync it."""
        path = self.zone.temp_path()
        try:
            next_after, has_more = self._download(after, limit, path)
            rows = _check_page(path, self.url, after, next_after)
            sync_file(path)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return _Page(after, next_after, has_more, rows, path)

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


def _check_page(path: Path, url: str, after: int, next_after: int) -> int:
    """The page's row count, once it holds the contract's columns and only seqs of its window,
    in order. A page in other but castable types is rewritten in the contract's types, so every
    landed file reads alike and the view's casts cost nothing."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise FeedError(f"{url}: the page is not a Parquet file ({exc})") from exc
    missing = [name for name in EVENT_SCHEMA.names if name not in schema.names]
    if missing:
        raise FeedError(f"{url}: the Parquet page lacks columns {', '.join(missing)}")
    if schema.names != EVENT_SCHEMA.names or schema.types != EVENT_SCHEMA.types:
        _rewrite_in_contract_types(path, url)
    # `ParquetFile.read` and numpy, not `pq.read_table` and `pyarrow.compute`: their first call
    # in a process (loading the dataset module, initialising compute kernels) took 0.5 s, the
    # check of a 134 000-event page 0.02 s.
    seq = pq.ParquetFile(path).read(columns=["seq"]).column("seq").combine_chunks()
    if seq.null_count:
        raise FeedError(f"{url}: {seq.null_count} events have no seq")
    if not len(seq):
        return 0
    values = np.frombuffer(seq.buffers()[1], np.int64, len(seq), seq.offset * 8)
    if not (values[1:] > values[:-1]).all():
        raise FeedError(f"{url}: the page's seqs are not strictly increasing")
    first, last = int(values[0]), int(values[-1])
    if first <= after or last > next_after:
        raise FeedError(
            f"{url}: the page holds seqs {first}..{last}, outside its window "
            f"({after}, {next_after}] (after, X-Next-After)"
        )
    return len(seq)


def _rewrite_in_contract_types(path: Path, url: str) -> None:
    table = pq.read_table(path, columns=EVENT_SCHEMA.names)
    columns = []
    for field in EVENT_SCHEMA:
        column = table.column(field.name)
        try:
            columns.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise FeedError(
                f"{url}: column {field.name} is {column.type}, which does not cast to "
                f"{EVENT_COLUMNS[field.name]} ({exc})"
            ) from exc
    pq.write_table(pa.table(columns, schema=EVENT_SCHEMA), path, compression=COMPRESSION)
