"""Collect one week's figures from the serving snapshot, write the CSVs and the PDF."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from dashboards import kpis, queries
from dashboards.report.pdf import write_pdf
from inbox_api.settings import Settings
from ingest.config import BusinessConfig, load_config

CSV_FILES = (
    "kpis_by_team.csv",
    "kpis_by_agent.csv",
    "sla_breaches.csv",
    "cycles.csv",
    "contact_reasons.csv",
    "conversion_cohorts.csv",
)


@dataclass(frozen=True)
class WeekData:
    """Everything the PDF shows, read once from the snapshot."""

    iso_week: str
    week_start: dt.date
    serving_db: Path
    kpis_by_team: pl.DataFrame
    kpis_by_agent: pl.DataFrame
    current: dict[str, Any]
    previous: dict[str, Any] | None
    breaches: pl.DataFrame
    cycles: pl.DataFrame
    reasons: pl.DataFrame
    cohorts: pl.DataFrame
    daily: pl.DataFrame
    agents: pl.DataFrame

    @property
    def week_end(self) -> dt.date:
        return self.week_start + dt.timedelta(days=6)


def _all_row(frame: pl.DataFrame, backlog: dict[dt.date, int], week: dt.date) -> dict | None:
    rows = frame.filter(pl.col("grain") == "all").to_dicts()
    if not rows:
        return None
    return {**rows[0], "backlog_open_count": backlog.get(week)}


def collect_week(serving_db: Path, iso_week: str) -> WeekData:
    week_start = kpis.parse_iso_week(iso_week)
    week_end = week_start + dt.timedelta(days=6)
    previous_start = week_start - dt.timedelta(days=7)
    con = queries.connect(serving_db)
    try:
        this_week = queries.run(con, "kpis_weekly_one", {"iso_week": iso_week})
        if this_week.is_empty():
            raise ValueError(f"no KPI rows for week {iso_week} in {serving_db}")
        last_week = queries.run(
            con, "kpis_weekly_one", {"iso_week": kpis.iso_week_of(previous_start)}
        )
        unfiltered = {"team": None, "agent": None, "inbox": None, "tag": None}
        week_range = {"start": week_start, "end": week_end, **unfiltered}
        backlog_rows = queries.run(
            con, "backlog_weekly", {**unfiltered, "start": previous_start, "end": week_end}
        )
        backlog = dict(backlog_rows.select("week_start_date", "open_count").iter_rows())
        return WeekData(
            iso_week=iso_week,
            week_start=week_start,
            serving_db=serving_db,
            kpis_by_team=this_week.filter(pl.col("grain") != "agent").drop("agent_name"),
            kpis_by_agent=this_week.filter(pl.col("grain") == "agent"),
            current=_all_row(this_week, backlog, week_start) or {},
            previous=_all_row(last_week, backlog, previous_start),
            breaches=queries.run(con, "sla_breaches", week_range),
            cycles=queries.run(con, "cycles_week", {"week_start": week_start}),
            reasons=queries.run(con, "contact_reasons_week", {"iso_week": iso_week}),
            cohorts=queries.run(con, "conversion_cohorts_upto", {"week_start": week_start}),
            daily=queries.run(con, "kpis_daily", {**week_range, "grain": "all"}),
            agents=queries.run(
                con, "agents_weekly", {"week_start": week_start, "team": None, "agent": None}
            ),
        )
    finally:
        con.close()


def build_weekly_report(
    serving_db: Path, iso_week: str, out_dir: Path, config: BusinessConfig | None = None
) -> Path:
    """Write `out_dir/<iso_week>/` (six CSVs and report.pdf) and return that folder."""
    kpis.parse_iso_week(iso_week)
    config = config or load_config(Settings().config_file)
    week = collect_week(Path(serving_db), iso_week)
    folder = Path(out_dir) / iso_week
    folder.mkdir(parents=True, exist_ok=True)
    frames = dict(
        zip(
            CSV_FILES,
            (
                week.kpis_by_team,
                week.kpis_by_agent,
                week.breaches,
                week.cycles,
                week.reasons,
                week.cohorts,
            ),
            strict=True,
        )
    )
    for name, frame in frames.items():
        frame.write_csv(folder / name)
    write_pdf(week, config, folder / "report.pdf")
    return folder
