"""`python -m bench.dashboard_bench --serving PATH`: every dashboard page's queries, server-side.

Each page is replayed as its view runs it with the default filters (the sidebar's last 56 days,
no team, agent, inbox or tag; calendar time; the drill-down's first listed cycle), through
`dashboards.queries` on one read-only connection, without the Streamlit result cache (the
worst case: a first visit or an expired cache entry). A page render is the sidebar's queries plus
the page's own; p50/p95 are over `--repeat` renders after one warm-up. The live queue page reads
the inbox API, not the snapshot, so it is not measured here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from dashboards import queries
from ingest.config import BusinessConfig, load_config

TARGET_P95_MS = 300.0
DEFAULT_RANGE_DAYS = 56  # dashboards.ui.DEFAULT_RANGE_DAYS

Query = Callable[..., pl.DataFrame]


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


class Context:
    """The default filters a first visit gets, derived from the snapshot like the sidebar does."""

    def __init__(self, query: Query, config: BusinessConfig) -> None:
        self.config = config
        bounds = query("date_bounds").row(0, named=True)
        self.end: dt.date = bounds["last_date"] or dt.date.today()
        first = bounds["first_date"] or self.end
        self.start: dt.date = max(first, self.end - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1))

    def params(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "team": None,
            "agent": None,
            "inbox": None,
            "tag": None,
        }


def sidebar(query: Query, ctx: Context) -> None:
    query("date_bounds")
    query("dim_teams")
    query("dim_agents")
    query("inboxes")
    query("tags")


def overview(query: Query, ctx: Context) -> None:
    first_week = week_start(ctx.start) - dt.timedelta(days=7)
    query("kpis_weekly", grain="all", team=None, agent=None, start=first_week, end=ctx.end)
    query(
        "backlog_weekly",
        team=None,
        agent=None,
        start=first_week,
        end=ctx.end + dt.timedelta(days=6),
    )


def sla(query: Query, ctx: Context) -> None:
    params = ctx.params()
    query("sla_by_team", **params)
    query("kpis_daily", grain="all", team=None, agent=None, start=ctx.start, end=ctx.end)
    query("sla_by_hour", tz=ctx.config.calendar.timezone, **params)
    query("sla_by_agent", low_n=ctx.config.low_confidence_n, **params)
    query("sla_breaches", **params)


def agents(query: Query, ctx: Context) -> None:
    weeks = query(
        "kpis_weekly", grain="all", team=None, agent=None, start=week_start(ctx.start), end=ctx.end
    )
    latest = max(weeks["week_start_date"].to_list()) if weeks.height else week_start(ctx.end)
    query("agents_weekly", week_start=latest, team=None, agent=None)


def peak_hours(query: Query, ctx: Context) -> None:
    query("heatmap", team=None)


def contact_reasons(query: Query, ctx: Context) -> None:
    query("contact_reasons", start=week_start(ctx.start), end=ctx.end, team=None)


def conversion(query: Query, ctx: Context) -> None:
    query("conversion_cohorts", start=week_start(ctx.start), end=ctx.end, team=None)
    query(
        "kpis_weekly", grain="all", team=None, agent=None, start=week_start(ctx.start), end=ctx.end
    )


def drilldown(query: Query, ctx: Context) -> None:
    cycles = query(
        "cycles_list",
        only_breached=False,
        csat_max=None,
        only_escalated=False,
        only_unanswered=False,
        **ctx.params(),
    )
    if cycles.height:
        cycle_id = cycles["cycle_id"][0]
        query("cycle_one", cycle_id=cycle_id)
        query("cycle_messages", cycle_id=cycle_id)
        query("cycle_escalations", cycle_id=cycle_id)


PAGES: dict[str, Callable[[Query, Context], None]] = {
    "overview": overview,
    "sla": sla,
    "agents": agents,
    "peak_hours": peak_hours,
    "contact_reasons": contact_reasons,
    "conversion": conversion,
    "drilldown": drilldown,
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(serving: Path, config: BusinessConfig, repeat: int) -> dict[str, dict[str, Any]]:
    """p50/p95 render time (ms) per page, and the slowest query of each page (median ms)."""
    con = queries.connect(serving)
    try:
        per_query: dict[str, list[float]] = {}
        current: list[str] = []

        def query(name: str, **params: Any) -> pl.DataFrame:
            started = time.perf_counter()
            frame = queries.run(con, name, params)
            per_query.setdefault(f"{current[0]}:{name}", []).append(
                (time.perf_counter() - started) * 1000
            )
            return frame

        current.append("setup")
        ctx = Context(query, config)
        results: dict[str, dict[str, Any]] = {}
        for page, render in PAGES.items():
            current[0] = page
            renders = []
            for attempt in range(repeat + 1):
                started = time.perf_counter()
                sidebar(query, ctx)
                render(query, ctx)
                if attempt:  # the first render warms the connection and the OS cache
                    renders.append((time.perf_counter() - started) * 1000)
            slowest = max(
                (key for key in per_query if key.startswith(f"{page}:")),
                key=lambda key: statistics.median(per_query[key]),
            )
            results[page] = {
                "p50_ms": round(statistics.median(renders), 1),
                "p95_ms": round(percentile(renders, 0.95), 1),
                "max_ms": round(max(renders), 1),
                "slowest_query": slowest.split(":", 1)[1],
                "slowest_query_p50_ms": round(statistics.median(per_query[slowest]), 1),
                "met": percentile(renders, 0.95) <= TARGET_P95_MS,
            }
        return results
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serving", type=Path, required=True, help="serving snapshot to query")
    parser.add_argument("--config", type=Path, default=Path("config/bandeja.yaml"))
    parser.add_argument("--repeat", type=int, default=30, help="measured renders per page")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not args.serving.is_file():
        parser.error(f"--serving {args.serving}: no such file")
    results = measure(args.serving, load_config(args.config), args.repeat)
    print(f"{'page':<16} {'p50 ms':>8} {'p95 ms':>8}  target p95 <= {TARGET_P95_MS:.0f} ms")
    for page, row in results.items():
        print(
            f"{page:<16} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}  "
            f"{'met' if row['met'] else 'NOT MET'} (slowest: {row['slowest_query']} "
            f"{row['slowest_query_p50_ms']:.1f} ms)"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if all(row["met"] for row in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
