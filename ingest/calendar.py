"""The business clock of METRICS.md section 1: open intervals, `bsec` and `add_bsec`.

The SQL twin lives in dbt (macros over `dim_business_intervals`, which this module generates), so
the live SLA engine and the pipeline agree on every deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UTC = dt.UTC
# Search horizon for add_bsec: a calendar with no open time in two years is a config error.
_MAX_SEARCH_DAYS = 731


def _parse_interval(text: str) -> tuple[dt.time, dt.time]:
    try:
        start_s, end_s = (part.strip() for part in text.split("-"))
        start = dt.time.fromisoformat(start_s)
        end = dt.time(0) if end_s in ("24:00", "24:00:00") else dt.time.fromisoformat(end_s)
    except ValueError as exc:
        raise ValueError(f"interval {text!r} is not 'HH:MM-HH:MM'") from exc
    if end != dt.time(0) and end <= start:
        raise ValueError(f"interval {text!r} ends before it starts")
    return start, end


class CalendarConfig(BaseModel):
    """Weekly hours, timezone and holidays; validated on load so a typo names itself."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = "America/Mexico_City"
    country: str | None = "MX"
    subdivision: str | None = None
    hours: dict[str, list[str]] = Field(
        default_factory=lambda: {day: ["09:00-18:00"] for day in WEEKDAYS[:5]}
    )
    extra_closed_dates: list[dt.date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, intervals in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use one of {', '.join(WEEKDAYS)}")
            for interval in intervals:
                _parse_interval(interval)
        return value

    @model_validator(mode="after")
    def _known_country(self) -> CalendarConfig:
        if self.country:
            try:
                holidays.country_holidays(self.country, subdiv=self.subdivision)
            except NotImplementedError as exc:
                raise ValueError(f"holidays has no calendar for country {self.country!r}") from exc
        return self


class BusinessCalendar:
    """Open intervals per local day; every instant in and out is an aware UTC datetime."""

    def __init__(self, config: CalendarConfig | None = None) -> None:
        self.config = config or CalendarConfig()
        self.tz = ZoneInfo(self.config.timezone)
        self._weekly = {
            WEEKDAYS.index(day): sorted(_parse_interval(text) for text in intervals)
            for day, intervals in self.config.hours.items()
        }
        self._closed = set(self.config.extra_closed_dates)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase | dict:
        if not self.config.country:
            return {}
        return holidays.country_holidays(self.config.country, subdiv=self.config.subdivision)

    def is_holiday(self, day: dt.date) -> bool:
        return day in self._closed or day in self._holidays

    def day_intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """Open intervals of one local date as UTC instants (DST handled per day)."""
        if self.is_holiday(day):
            return []
        result = []
        for start, end in self._weekly.get(day.weekday(), []):
            open_local = dt.datetime.combine(day, start, self.tz)
            close_day = day + dt.timedelta(days=1) if end == dt.time(0) else day
            close_local = dt.datetime.combine(close_day, end, self.tz)
            result.append((open_local.astimezone(UTC), close_local.astimezone(UTC)))
        return result

    def intervals(
        self, first: dt.date, last: dt.date
    ) -> Iterator[tuple[dt.date, dt.datetime, dt.datetime]]:
        """(local_date, open_at, close_at) for every open interval of the local dates, inclusive."""
        day = first
        while day <= last:
            for open_at, close_at in self.day_intervals(day):
                yield day, open_at, close_at
            day += dt.timedelta(days=1)

    def local_date(self, t: dt.datetime) -> dt.date:
        return _aware(t).astimezone(self.tz).date()

    def is_business(self, t: dt.datetime) -> bool:
        t = _aware(t)
        day = self.local_date(t)
        return any(o <= t < c for o, c in self.day_intervals(day))

    def bsec(self, a: dt.datetime, b: dt.datetime) -> float | None:
        """Business seconds in [a, b); None when b < a (the caller flags it)."""
        a, b = _aware(a), _aware(b)
        if b < a:
            return None
        total = 0.0
        for _, open_at, close_at in self.intervals(
            self.local_date(a) - dt.timedelta(days=1), self.local_date(b)
        ):
            total += max(0.0, (min(b, close_at) - max(a, open_at)).total_seconds())
        return total

    def add_bsec(self, t: dt.datetime, seconds: float) -> dt.datetime:
        """Earliest instant x with bsec(t, x) == seconds: a deadline on the business clock."""
        t = _aware(t)
        remaining = dt.timedelta(seconds=seconds)
        day = self.local_date(t) - dt.timedelta(days=1)
        for _ in range(_MAX_SEARCH_DAYS):
            for open_at, close_at in self.day_intervals(day):
                start = max(t, open_at)
                if start >= close_at:
                    continue
                if remaining <= dt.timedelta(0):
                    return start
                available = close_at - start
                if remaining <= available:
                    return start + remaining
                remaining -= available
            day += dt.timedelta(days=1)
        raise ValueError("the business calendar has no open time in the next two years")


def _aware(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is None:
        raise ValueError("naive datetime: every instant must carry its timezone (store UTC)")
    return t.astimezone(UTC)
