"""Ingest assets: the inbox change feed (landed as files, read as `raw.inbox_events`) and the
business calendar (`raw.business_intervals`)."""

import datetime as dt

import dagster as dg
import duckdb
import httpx

from ingest.feed import create_raw_view, pull_feed
from ingest.intervals import (
    event_date_range,
    interval_range,
    landed_event_dates,
    write_business_intervals,
)
from ingest.landing import landing_dir
from pipelines.defs.dbt import start_build_parse
from pipelines.defs.resources import (
    WAREHOUSE_POOL,
    BandejaSettings,
    connect_warehouse,
    warehouse_lock,
)
from pipelines.serving import start_serving_copy

# Asset keys equal the dbt source relations (`raw.inbox_events` -> `raw_inbox_events`), so the
# dbt translator lines lineage up without glue.
RAW_INBOX_EVENTS = dg.AssetKey("raw_inbox_events")
RAW_BUSINESS_INTERVALS = dg.AssetKey("raw_business_intervals")


@dg.asset(
    key=RAW_INBOX_EVENTS,
    group_name="ingest",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "python"},
    description=(
        "Every inbox event (docs/events.md): the change feed after the cursor, landed as Parquet "
        "files under <data dir>/landing/inbox_events/, read through the view raw.inbox_events."
    ),
)
def raw_inbox_events(context: dg.AssetExecutionContext, bandeja: BandejaSettings):
    settings = bandeja.settings()
    landing = landing_dir(settings.data_dir)
    # The dbt step's parse and its copy of the serving snapshot, while the feed downloads.
    start_build_parse(bandeja)
    start_serving_copy(settings.serving_db)
    with warehouse_lock(settings.warehouse_db):
        result = pull_feed(settings.api_url, settings.feed_token.get_secret_value(), landing)
        settings.warehouse_db.parent.mkdir(parents=True, exist_ok=True)
        with connect_warehouse(settings.warehouse_db) as con:
            create_raw_view(con, landing)
    context.log.info(
        f"feed: {result.pulled} events landed, {result.compacted} small files merged, "
        f"cursor at seq {result.cursor}"
    )
    return dg.MaterializeResult(
        metadata={
            "events_pulled": result.pulled,
            "files_compacted": result.compacted,
            "cursor": result.cursor,
            "api_url": settings.api_url,
            "landing_dir": str(landing.resolve()),
        }
    )


@dg.asset(
    key=RAW_BUSINESS_INTERVALS,
    deps=[RAW_INBOX_EVENTS],
    group_name="ingest",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "python"},
    description=(
        "Open business intervals per local date (config calendar + holidays), from a week before "
        "the first event to 400 days after the last one or today."
    ),
)
def raw_business_intervals(context: dg.AssetExecutionContext, bandeja: BandejaSettings):
    settings = bandeja.settings()
    config = bandeja.business_config()
    with warehouse_lock(settings.warehouse_db), connect_warehouse(settings.warehouse_db) as con:
        # The landed files' statistics, read through the view only when they cannot tell.
        landed = landed_event_dates(landing_dir(settings.data_dir))
        first_event, last_event = landed or event_date_range(con)
        first, last = interval_range(first_event, last_event, dt.datetime.now(dt.UTC).date())
        count = write_business_intervals(con, config, first, last)
    context.log.info(f"calendar: {count} open intervals for {first}..{last}")
    return dg.MaterializeResult(
        metadata={
            "interval_count": count,
            "first_date": first.isoformat(),
            "last_date": last.isoformat(),
            "timezone": config.calendar.timezone,
        }
    )


def compare_feed_counts(
    feed_max_seq: int, feed_count: int, warehouse_max_seq: int, warehouse_count: int
) -> tuple[bool, dg.AssetCheckSeverity, str]:
    """(passed, severity, description) of the feed-vs-warehouse reconciliation."""
    if warehouse_max_seq > feed_max_seq or warehouse_count > feed_count:
        return (
            False,
            dg.AssetCheckSeverity.ERROR,
            "the warehouse holds events the feed does not (different inbox or a reset feed?)",
        )
    if warehouse_max_seq == feed_max_seq and warehouse_count != feed_count:
        return False, dg.AssetCheckSeverity.ERROR, "same last seq but a different event count"
    if warehouse_max_seq < feed_max_seq:
        # Events committed after the pull; the next run catches up.
        return False, dg.AssetCheckSeverity.WARN, "the warehouse is behind the feed"
    return True, dg.AssetCheckSeverity.ERROR, "the warehouse matches the feed"


def warehouse_seqs(con: duckdb.DuckDBPyConnection, feed_max_seq: int) -> tuple[int, int]:
    """(last seq, event count) of `raw.inbox_events`.

    The count comes from the files' metadata, but a plain max(seq) reads the seq of every event
    (0.2-0.4 s on 25 M). Asked for seqs from the feed's last one on, the scan skips every row
    group below it on their statistics; only a warehouse without that seq (behind the feed, or
    empty) needs the full scan.
    """
    (count,) = con.execute("SELECT count(*) FROM raw.inbox_events").fetchall()[0]
    (last,) = con.execute(
        "SELECT max(seq) FROM raw.inbox_events WHERE seq >= $1", [feed_max_seq]
    ).fetchall()[0]
    if last is None:
        (last,) = con.execute("SELECT coalesce(max(seq), 0) FROM raw.inbox_events").fetchall()[0]
    return int(last), int(count)


@dg.asset_check(
    asset=RAW_INBOX_EVENTS,
    name="feed_matches_warehouse",
    pool=WAREHOUSE_POOL,
    description="Last seq and event count in the warehouse equal the feed's (`/v1/feed/stats`).",
)
def feed_matches_warehouse(bandeja: BandejaSettings) -> dg.AssetCheckResult:
    settings = bandeja.settings()
    url = f"{settings.api_url.rstrip('/')}/v1/feed/stats"
    token = settings.feed_token.get_secret_value()
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0)
    except httpx.TransportError as exc:
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.WARN, description=f"{url}: {exc!r}"
        )
    if response.status_code != 200:
        return dg.AssetCheckResult(
            passed=False,
            description=f"{url}: HTTP {response.status_code}: {response.text[:200]}",
        )
    stats = response.json()
    with (
        warehouse_lock(settings.warehouse_db),
        duckdb.connect(str(settings.warehouse_db), read_only=True) as con,
    ):
        wh_max, wh_count = warehouse_seqs(con, int(stats["max_seq"]))
    passed, severity, description = compare_feed_counts(
        int(stats["max_seq"]), int(stats["count"]), wh_max, wh_count
    )
    return dg.AssetCheckResult(
        passed=passed,
        severity=severity,
        description=description,
        metadata={
            "feed_max_seq": int(stats["max_seq"]),
            "feed_count": int(stats["count"]),
            "warehouse_max_seq": wh_max,
            "warehouse_count": wh_count,
        },
    )
