"""The calendar the dbt business-time macros join against."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.config import load_config
from ingest.feed import EVENT_SCHEMA, create_raw_view
from ingest.intervals import (
    event_date_range,
    interval_range,
    landed_event_dates,
    write_business_intervals,
)
from ingest.landing import file_name

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config" / "bandeja.yaml")


def test_range_covers_a_week_before_the_first_event_and_400_days_after_the_last():
    today = dt.date(2026, 11, 25)
    assert interval_range(dt.date(2026, 1, 10), dt.date(2027, 3, 1), today) == (
        dt.date(2026, 1, 3),
        dt.date(2028, 4, 4),
    )
    # Old events: deadlines from today on still land inside.
    assert interval_range(dt.date(2025, 1, 10), dt.date(2025, 2, 1), today)[1] == dt.date(
        2027, 12, 30
    )
    assert interval_range(None, None, today) == (dt.date(2026, 11, 18), dt.date(2027, 12, 30))


def test_write_replaces_the_table_with_utc_intervals_and_skips_holidays():
    con = duckdb.connect()
    write_business_intervals(con, CONFIG, dt.date(2026, 1, 1), dt.date(2026, 12, 31))

    count = write_business_intervals(con, CONFIG, dt.date(2026, 11, 13), dt.date(2026, 11, 17))

    rows = con.execute("SELECT * FROM raw.business_intervals ORDER BY open_at").fetchall()
    assert count == len(rows) == 2  # Fri 13, (weekend), Mon 16 holiday, Tue 17
    assert [row[0] for row in rows] == [dt.date(2026, 11, 13), dt.date(2026, 11, 17)]
    assert rows[1][1] == dt.datetime(2026, 11, 17, 15, 0, tzinfo=dt.UTC)
    assert rows[1][2] == dt.datetime(2026, 11, 18, 0, 0, tzinfo=dt.UTC)


def test_event_date_range_reads_the_raw_events():
    con = duckdb.connect()
    assert event_date_range(con) == (None, None)
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.inbox_events (occurred_at TIMESTAMPTZ)")
    con.execute(
        "INSERT INTO raw.inbox_events VALUES ('2026-11-17 23:30:00+00'), ('2026-11-02 08:00:00+00')"
    )
    assert event_date_range(con) == (dt.date(2026, 11, 2), dt.date(2026, 11, 17))


def test_an_unchanged_calendar_is_not_rewritten():
    con = duckdb.connect()
    write_business_intervals(con, CONFIG, dt.date(2026, 11, 13), dt.date(2026, 11, 17))
    # A rewrite (CREATE OR REPLACE) would drop the comment.
    con.execute("COMMENT ON TABLE raw.business_intervals IS 'kept'")
    con.execute("SET TimeZone = 'America/Mexico_City'")  # same instants, other session zone

    assert write_business_intervals(con, CONFIG, dt.date(2026, 11, 13), dt.date(2026, 11, 17)) == 2
    assert _comment(con) == "kept"

    assert write_business_intervals(con, CONFIG, dt.date(2026, 11, 13), dt.date(2026, 11, 18)) == 3
    assert _comment(con) is None
    assert con.execute("SELECT count(*) FROM raw.business_intervals").fetchall()[0][0] == 3


def _comment(con: duckdb.DuckDBPyConnection) -> str | None:
    return con.execute(
        "SELECT comment FROM duckdb_tables() "
        "WHERE schema_name = 'raw' AND table_name = 'business_intervals'"
    ).fetchall()[0][0]


def test_landed_event_dates_match_the_view_from_the_files_statistics(tmp_path):
    zone = tmp_path / "landing"
    assert landed_event_dates(zone) is None
    zone.mkdir()
    for first, instants, statistics in [
        (1, ["2026-11-17 23:30:00+00", "2026-11-02 08:00:00+00"], True),
        (3, ["2026-11-20 01:00:00+00"], True),
    ]:
        _land(zone, first, instants, statistics)
    con = duckdb.connect()
    create_raw_view(con, zone)
    assert (
        landed_event_dates(zone)
        == event_date_range(con)
        == (
            dt.date(2026, 11, 2),
            dt.date(2026, 11, 20),
        )
    )
    # A file without statistics: only the view can tell.
    _land(zone, 4, ["2026-10-01 12:00:00+00"], False)
    assert landed_event_dates(zone) is None
    create_raw_view(con, zone)
    assert event_date_range(con) == (dt.date(2026, 10, 1), dt.date(2026, 11, 20))


def _land(zone: Path, first: int, instants: list[str], statistics: bool) -> None:
    times = pa.array([dt.datetime.fromisoformat(text) for text in instants], EVENT_SCHEMA[3].type)
    columns = {field.name: pa.nulls(len(instants), field.type) for field in EVENT_SCHEMA}
    columns["seq"] = pa.array(range(first, first + len(instants)), pa.int64())
    columns["occurred_at"] = times
    last = first + len(instants) - 1
    pq.write_table(
        pa.table(columns, schema=EVENT_SCHEMA),
        zone / file_name(first, last),
        write_statistics=statistics,
    )


def test_an_inverted_range_is_refused():
    with pytest.raises(ValueError, match="before it starts"):
        write_business_intervals(duckdb.connect(), CONFIG, dt.date(2026, 2, 1), dt.date(2026, 1, 1))
