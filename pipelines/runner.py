"""Run the pipeline once, in-process: the same assets the schedule runs, with a summary."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from inbox_api.settings import Settings


class PipelineError(RuntimeError):
    """A pipeline run failed; `summary` tells how far it got."""

    def __init__(self, message: str, summary: PipelineSummary | None = None) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass(frozen=True)
class PipelineSummary:
    success: bool
    events_pulled: int
    cursor: int
    models_built: int
    tests_passed: int
    tests_failed: int
    checks_failed: list[str]
    serving_db: Path
    seconds: float
    failure: str | None = None

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        lines = [
            f"events pulled:  {self.events_pulled} (cursor {self.cursor})",
            f"models built:   {self.models_built}",
            f"tests:          {self.tests_passed} passed, {self.tests_failed} failed",
            f"serving db:     {self.serving_db}",
            f"seconds taken:  {self.seconds:.1f}",
        ]
        if self.checks_failed:
            lines.append(f"checks failed:  {', '.join(self.checks_failed)}")
        if self.failure:
            lines.append(f"FAILED: {self.failure}")
        return lines


def run_pipeline(
    settings: Settings,
    as_of: dt.datetime | None = None,
    *,
    raise_on_failure: bool = True,
    verbose: bool = False,
    full_refresh: bool = False,
    daily: bool = False,
) -> PipelineSummary:
    """Pull the feed, write the calendar, dbt build, publish; once, in this process.

    `as_of` is the instant metrics are computed at (default: the last event's time, so re-runs on
    the same events give identical numbers). Raises `PipelineError` on failure unless
    `raise_on_failure` is False. `verbose` shows Dagster's and dbt's logs as the run goes.
    `full_refresh` rebuilds every incremental dbt model from the raw feed (after an upgrade or a
    calendar change). `daily` also builds the dbt nodes tagged `daily` (the data tests that read
    whole fact tables), as the daily scheduled run does; a full refresh always builds them.
    """
    # Imported here: loading the definitions parses the dbt project.
    from pipelines.definitions import PIPELINE_ASSETS, PIPELINE_CHECKS
    from pipelines.defs.dbt import BANDEJA_DBT_PROJECT, DBT_OP_NAME, dbt_resource
    from pipelines.defs.ingest import RAW_INBOX_EVENTS
    from pipelines.defs.resources import BandejaSettings
    from pipelines.instance import ephemeral_instance

    # Dagster's step-by-step debug log would bury the summary; failures are summarised below.
    log_level = "DEBUG" if verbose else "ERROR"
    run_config: dict = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    dbt_config: dict = {"full_refresh": full_refresh, "daily": daily}
    if as_of is not None:
        if as_of.tzinfo is None:
            raise ValueError("as_of must carry a timezone")
        dbt_config["as_of"] = as_of.isoformat()
    run_config["ops"] = {DBT_OP_NAME: {"config": dbt_config}}
    started = time.monotonic()
    # The dbt step echoes dbt's console lines to stdout; the caller gets a summary instead.
    echo = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with echo, ephemeral_instance() as instance:
        result = dg.materialize(
            [*PIPELINE_ASSETS, *PIPELINE_CHECKS],
            resources={
                "dbt": dbt_resource(BANDEJA_DBT_PROJECT),
                "bandeja": BandejaSettings.from_settings(settings),
            },
            run_config=run_config,
            instance=instance,
            raise_on_error=False,
        )
    seconds = time.monotonic() - started

    pull_metadata = {}
    for materialization in result.asset_materializations_for_node(RAW_INBOX_EVENTS.path[-1]):
        pull_metadata = {key: value.value for key, value in materialization.metadata.items()}
    models_built = len(result.asset_materializations_for_node(DBT_OP_NAME))
    passed = failed = 0
    checks_failed = []
    own_checks = {spec.key for check in PIPELINE_CHECKS for spec in check.check_specs}
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.asset_check_key not in own_checks:
            passed += evaluation.passed
            failed += not evaluation.passed
        elif not evaluation.passed:
            checks_failed.append(
                f"{evaluation.asset_check_key.name}: {evaluation.description or 'failed'}"
            )
    summary = PipelineSummary(
        success=result.success,
        events_pulled=int(pull_metadata.get("events_pulled", 0)),
        cursor=int(pull_metadata.get("cursor", 0)),
        models_built=models_built,
        tests_passed=passed,
        tests_failed=failed,
        checks_failed=checks_failed,
        serving_db=Path(settings.serving_db),
        seconds=seconds,
        failure=None if result.success else _failure_message(result),
    )
    if raise_on_failure and not summary.success:
        raise PipelineError(f"pipeline failed: {summary.failure}", summary)
    return summary


def run_weekly_report(
    settings: Settings, iso_week: str | None = None, *, verbose: bool = False
) -> Path | None:
    """Build one week's report (default: the previous ISO week, local time) from the serving
    snapshot. Returns the report folder, or None when the report module is not installed."""
    from pipelines.defs.reports import weekly_report
    from pipelines.defs.resources import BandejaSettings

    result = dg.materialize(
        [weekly_report],
        resources={"bandeja": BandejaSettings.from_settings(settings)},
        run_config={
            "loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "ERROR"}}},
            "ops": {"weekly_report": {"config": {"iso_week": iso_week}}},
        },
        raise_on_error=False,
    )
    if not result.success:
        raise PipelineError(f"weekly report failed: {_failure_message(result)}")
    materializations = result.asset_materializations_for_node("weekly_report")
    if not materializations:
        return None
    return Path(str(materializations[-1].metadata["path"].value))


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    failures = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            message = error.message.strip() if error else "unknown error"
            # Wrapped user errors keep the interesting part in the cause.
            while error is not None and error.cause is not None:
                error = error.cause
                message = error.message.strip()
            failures.append(f"{event.step_key}: {message}")
    return "; ".join(failures) or "the run failed (see the Dagster logs)"
