"""METRICS.md section 1 vectors T1-T10 against the Python business clock."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ingest.calendar import BusinessCalendar, CalendarConfig

MX = ZoneInfo("America/Mexico_City")


def local(text: str, tz: ZoneInfo = MX) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz)


@pytest.mark.parametrize(
    ("a", "b", "bsec", "calendar_seconds"),
    [
        ("2026-11-23 10:00:00", "2026-11-23 10:04:00", 240, 240),
        ("2026-11-23 17:58:00", "2026-11-24 09:03:00", 300, 54_300),
        ("2026-11-21 11:00", "2026-11-23 09:20", 1_200, 166_800),
        ("2026-11-23 08:00", "2026-11-23 08:30", 0, 1_800),
        ("2026-09-15 10:00", "2026-09-17 09:10", 29_400, 169_800),
        ("2026-11-23 18:00:00", "2026-11-23 18:00:01", 0, 1),
    ],
    ids=["T1", "T2", "T3", "T4", "T5", "T6"],
)
def test_bsec_vectors(a: str, b: str, bsec: int, calendar_seconds: int) -> None:
    cal = BusinessCalendar()
    start, end = local(a), local(b)
    assert cal.bsec(start, end) == bsec
    assert (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds() == calendar_seconds


def test_bsec_dst_madrid_t7() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    cal = BusinessCalendar(CalendarConfig(timezone="Europe/Madrid", country=None))
    start, end = local("2024-03-29 17:00", madrid), local("2024-04-01 10:00", madrid)
    assert cal.bsec(start, end) == 7_200
    # Subtracting two datetimes of one tzinfo ignores the DST jump: compare in UTC.
    assert (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds() == 230_400


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-11-27 17:50", "2026-11-27 17:55"),
        ("2026-11-27 17:58", "2026-11-30 09:03"),
        ("2026-11-13 17:58", "2026-11-17 09:03"),
    ],
    ids=["T8", "T9", "T10"],
)
def test_add_bsec_vectors(start: str, expected: str) -> None:
    assert BusinessCalendar().add_bsec(local(start), 300) == local(expected)


def test_backwards_interval_is_none_not_negative() -> None:
    cal = BusinessCalendar()
    assert cal.bsec(local("2026-11-23 11:00"), local("2026-11-23 10:00")) is None


def test_is_business_edges() -> None:
    cal = BusinessCalendar()
    assert cal.is_business(local("2026-11-23 09:00"))
    assert not cal.is_business(local("2026-11-23 18:00"))
    assert not cal.is_business(local("2026-11-16 10:00"))  # MX holiday (Revolution Day)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown IANA timezone"),
        ({"hours": {"monday": ["09:00-18:00"]}}, "unknown weekday"),
        ({"hours": {"mon": ["18:00-09:00"]}}, "ends before it starts"),
        ({"hours": {"mon": ["nine-six"]}}, "HH:MM-HH:MM"),
        ({"country": "XX"}, "no calendar for country"),
    ],
)
def test_bad_calendar_config_names_the_problem(config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CalendarConfig(**config)
