"""Jobs and schedules: the pipeline every few minutes and once a day with the full-table tests,
the report every Monday morning."""

import dagster as dg

from pipelines.defs.dbt import DBT_OP_NAME, bandeja_dbt_models
from pipelines.defs.ingest import raw_business_intervals, raw_inbox_events
from pipelines.defs.publish import serving_snapshot
from pipelines.defs.reports import previous_iso_week, weekly_report
from pipelines.defs.resources import WAREHOUSE_RUN_TAG

PIPELINE_JOB = "bandeja_pipeline"
REPORT_JOB = "bandeja_weekly_report"

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.assets(
        raw_inbox_events, raw_business_intervals, bandeja_dbt_models, serving_snapshot
    ),
    executor_def=dg.in_process_executor,
    tags=WAREHOUSE_RUN_TAG,
    description="Pull the feed, write the calendar, dbt build, publish the serving snapshot.",
)

report_job = dg.define_asset_job(
    REPORT_JOB,
    selection=dg.AssetSelection.assets(weekly_report),
    executor_def=dg.in_process_executor,
    description="Build last week's report from the serving snapshot.",
)


def interval_cron(minutes: int) -> str:
    """Cron for 'every N minutes'; steps above an hour become whole hours."""
    if minutes < 1:
        raise ValueError(f"BANDEJA_PIPELINE_INTERVAL_MINUTES must be >= 1, got {minutes}")
    if minutes < 60:
        return f"*/{minutes} * * * *"
    hours = minutes // 60
    if minutes % 60 or hours > 24:
        raise ValueError(
            f"BANDEJA_PIPELINE_INTERVAL_MINUTES={minutes}: above 60 use whole hours up to 1440"
        )
    return "0 0 * * *" if hours == 24 else f"0 */{hours} * * *"


# The daily run: local time, before business hours, so a failing full-table test is news at the
# start of the day. The 10-minute run due at the same minute queues behind it (one warehouse run).
DAILY_CRON = "30 6 * * *"


def build_schedules(interval_minutes: int, timezone: str) -> list[dg.ScheduleDefinition]:
    """The pipeline schedule (every `interval_minutes`), its daily run with the dbt nodes tagged
    `daily` (06:30 local), and the Monday 08:00 local report."""
    pipeline_schedule = dg.ScheduleDefinition(
        name="bandeja_pipeline_schedule",
        job=pipeline_job,
        cron_schedule=interval_cron(interval_minutes),
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    daily_schedule = dg.ScheduleDefinition(
        name="bandeja_pipeline_daily_schedule",
        job=pipeline_job,
        cron_schedule=DAILY_CRON,
        execution_timezone=timezone,
        run_config={"ops": {DBT_OP_NAME: {"config": {"daily": True}}}},
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )

    @dg.schedule(
        name="bandeja_weekly_report_schedule",
        job=report_job,
        cron_schedule="0 8 * * 1",
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def weekly_report_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        iso_week = previous_iso_week(context.scheduled_execution_time, timezone)
        return dg.RunRequest(
            run_key=iso_week,
            run_config={"ops": {"weekly_report": {"config": {"iso_week": iso_week}}}},
        )

    return [pipeline_schedule, daily_schedule, weekly_report_schedule]
