"""The Dagster code location: `dagster dev -m pipelines.definitions` (or `bandeja pipeline ui`)."""

import dagster as dg

from inbox_api.settings import Settings
from ingest.config import load_config
from pipelines.defs.dbt import BANDEJA_DBT_PROJECT, bandeja_dbt_models, dbt_resource
from pipelines.defs.ingest import feed_matches_warehouse, raw_business_intervals, raw_inbox_events
from pipelines.defs.publish import serving_snapshot, serving_snapshot_fresh
from pipelines.defs.reports import weekly_report
from pipelines.defs.resources import BandejaSettings
from pipelines.defs.schedules import build_schedules, pipeline_job, report_job

PIPELINE_ASSETS = [raw_inbox_events, raw_business_intervals, bandeja_dbt_models, serving_snapshot]
PIPELINE_CHECKS = [feed_matches_warehouse, serving_snapshot_fresh]


def build_definitions() -> dg.Definitions:
    # Schedules need the interval and the business timezone when the location loads; the
    # resources resolve everything else when a run starts.
    settings = Settings()
    timezone = load_config(settings.config_file).calendar.timezone
    return dg.Definitions(
        assets=[*PIPELINE_ASSETS, weekly_report],
        asset_checks=PIPELINE_CHECKS,
        jobs=[pipeline_job, report_job],
        schedules=build_schedules(settings.pipeline_interval_minutes, timezone),
        resources={"dbt": dbt_resource(BANDEJA_DBT_PROJECT), "bandeja": BandejaSettings()},
    )


defs = build_definitions()
