"""The weekly manager report (CSV + PDF), built from the serving snapshot."""

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.defs.publish import SERVING_ASSET
from pipelines.defs.resources import BandejaSettings

REPORT_MODULE = "dashboards.report"


class WeeklyReportConfig(dg.Config):
    """Run config of the report step."""

    iso_week: str | None = None  # e.g. '2026-W47'; None = the previous ISO week, local time


def previous_iso_week(now: dt.datetime, timezone: str) -> str:
    """The ISO week before the one containing `now` in the business timezone ('2026-W47')."""
    if now.tzinfo is None:
        raise ValueError("now must carry a timezone")
    local_day = now.astimezone(ZoneInfo(timezone)).date()
    year, week, _ = (local_day - dt.timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


@dg.asset(
    deps=[SERVING_ASSET],
    group_name="reports",
    kinds={"pdf", "csv"},
    output_required=False,
    description="Weekly KPI report (CSV + PDF) for managers, one per ISO week.",
)
def weekly_report(
    context: dg.AssetExecutionContext, bandeja: BandejaSettings, config: WeeklyReportConfig
):
    settings = bandeja.settings()
    business = bandeja.business_config()
    iso_week = config.iso_week or previous_iso_week(
        dt.datetime.now(dt.UTC), business.calendar.timezone
    )
    try:
        # Imported lazily: the report pulls in reportlab and is optional for the pipeline.
        report = importlib.import_module(REPORT_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name not in (REPORT_MODULE, REPORT_MODULE.split(".")[0]):
            raise
        context.log.warning(f"{REPORT_MODULE} is not installed; weekly report {iso_week} skipped")
        return
    path = report.build_weekly_report(
        settings.serving_db, iso_week, settings.reports_dir, config=business
    )
    context.log.info(f"weekly report {iso_week}: {path}")
    yield dg.MaterializeResult(metadata={"iso_week": iso_week, "path": str(path)})
