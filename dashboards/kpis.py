"""The headline KPIs (which column, which target, which direction is better) and their formats.

One definition serves the Overview cards and the weekly report, so both say the same thing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from ingest.config import BusinessConfig

Kind = Literal["duration", "rate", "score", "count"]

# Shown wherever a figure has no value (no rows, or no previous week to compare with).
MISSING = "–"
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Kpi:
    key: str
    column: str
    business_column: str | None
    kind: Kind
    lower_is_better: bool
    target: float | None
    n_columns: tuple[str, ...]


def headline_kpis(config: BusinessConfig) -> list[Kpi]:
    frt_target = float(config.sla.business_target_seconds)
    return [
        Kpi(
            "kpi_frt_median",
            "frt_median_seconds",
            "frt_business_median_seconds",
            "duration",
            True,
            frt_target,
            ("frt_n",),
        ),
        Kpi(
            "kpi_frt_p90",
            "frt_p90_seconds",
            "frt_business_p90_seconds",
            "duration",
            True,
            frt_target,
            ("frt_n",),
        ),
        Kpi(
            "kpi_sla",
            "sla_compliance_rate",
            None,
            "rate",
            False,
            config.targets.sla_compliance_rate,
            ("sla_met_count", "sla_breached_count"),
        ),
        Kpi(
            "kpi_art",
            "art_median_seconds",
            "art_business_median_seconds",
            "duration",
            True,
            None,
            ("art_n",),
        ),
        Kpi("kpi_backlog", "backlog_open_count", None, "count", True, None, ()),
        Kpi(
            "kpi_csat",
            "csat_rate",
            None,
            "rate",
            False,
            config.targets.csat_rate,
            ("csat_responses_count",),
        ),
        Kpi("kpi_nps", "nps_score", None, "score", False, None, ("nps_responses_count",)),
        Kpi("kpi_conversion", "conversion_rate", None, "rate", False, None, ("leads_count",)),
    ]


def value_of(kpi: Kpi, row: dict[str, Any] | None, business_time: bool) -> float | None:
    if row is None:
        return None
    column = kpi.business_column if business_time and kpi.business_column else kpi.column
    value = row.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def n_of(kpi: Kpi, row: dict[str, Any] | None) -> int | None:
    """How many cycles/answers the KPI rests on (None when it has no count)."""
    if row is None or not kpi.n_columns:
        return None
    counts = [row.get(column) for column in kpi.n_columns]
    return None if any(count is None for count in counts) else int(sum(counts))


def meets_target(kpi: Kpi, value: float | None) -> bool | None:
    if kpi.target is None or value is None:
        return None
    return value <= kpi.target if kpi.lower_is_better else value >= kpi.target


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return MISSING
    sign = "-" if seconds < 0 else ""
    total = round(abs(seconds))
    if total < 60:
        return f"{sign}{total}s"
    if total < 3600:
        return f"{sign}{total // 60}m {total % 60:02d}s"
    if total < 86400:
        return f"{sign}{total // 3600}h {total % 3600 // 60:02d}m"
    return f"{sign}{total // 86400}d {total % 86400 // 3600:02d}h"


def format_value(kind: Kind, value: float | None) -> str:
    if value is None:
        return MISSING
    if kind == "duration":
        return format_duration(value)
    if kind == "rate":
        return f"{100 * value:.1f}%"
    return f"{round(value):d}"


def format_delta(kind: Kind, current: float | None, previous: float | None) -> str | None:
    if current is None or previous is None:
        return None
    change = current - previous
    if kind == "duration":
        return ("+" if change >= 0 else "") + format_duration(change)
    if kind == "rate":
        return f"{100 * change:+.1f} pts"
    return f"{round(change):+d}"


def format_target(kpi: Kpi) -> str:
    if kpi.target is None:
        return MISSING
    return ("≤ " if kpi.lower_is_better else "≥ ") + format_value(kpi.kind, kpi.target)


def format_money(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.2f}"


def parse_iso_week(text: str) -> dt.date:
    """The Monday of ISO week `YYYY-Www`; anything else is a ValueError naming the format."""
    match = _ISO_WEEK.match(text or "")
    if not match:
        raise ValueError(f"week {text!r} is not an ISO week in the format YYYY-Www (e.g. 2026-W47)")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise ValueError(f"week {text!r} does not exist: {year} has no week {week}") from exc


def iso_week_of(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def last_complete_week(today: dt.date) -> str:
    """The ISO week before the one containing `today` (a local date)."""
    return iso_week_of(today - dt.timedelta(days=7))
