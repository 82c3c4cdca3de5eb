"""dbt assets: every model of `dbt_project/` as an asset, its data tests as asset checks."""

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject, dbt_assets

from inbox_api.settings import Settings
from ingest.config import BusinessConfig
from pipelines.defs.dbt_runner import (
    InProcessDbt,
    parse_in_background,
    parse_options,
    parse_project,
    project_files,
)
from pipelines.defs.resources import (
    WAREHOUSE_POOL,
    BandejaSettings,
    absolute,
    dbt_target,
    warehouse_lock,
)
from pipelines.serving import build_path, prepare_serving_build

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DBT_OP_NAME = "bandeja_dbt"
AS_OF_ENV = "BANDEJA_DBT_AS_OF"
# Read by the on-run-start hook `checkpoint_vacuum()` (dbt_project/macros/storage.sql).
VACUUM_TASKS_ENV = "BANDEJA_DUCKDB_VACUUM_TASKS"
# dbt tag of the nodes only the daily run and full refreshes build (dbt_build_args).
DAILY_TAG = "daily"


class DbtBuildConfig(dg.Config):
    """Run config of the dbt step."""

    as_of: str | None = None  # ISO UTC instant; None lets dbt use the last event's time
    # Rebuild every incremental model from the raw feed: after an upgrade that changes a model's
    # columns or incremental logic, or a change to the business calendar.
    full_refresh: bool = False
    # Also build the nodes tagged `daily` (full-table data tests, the business-clock probes),
    # which the every-few-minutes runs skip; a full refresh always builds them.
    daily: bool = False


def dbt_vars(config: BusinessConfig) -> dict[str, Any]:
    """The dbt vars of every build: the business config. They change only with the config, so
    dbt's partial parsing survives from one run to the next (changed vars re-parse it all)."""
    return {
        "business_timezone": config.calendar.timezone,
        "sla_business_target_seconds": config.sla.business_target_seconds,
        "sla_offhours_target_seconds": config.sla.offhours_target_seconds,
        "sla_clock": config.sla.clock,
        "conversion_window_days": config.conversion_window_days,
        "low_confidence_n": config.low_confidence_n,
    }


def dbt_build_env(settings: Settings) -> dict[str, str]:
    """What the profile reads, set for a build and the parse behind it: the warehouse, and the
    serving build file (pipelines/serving.py) the marts and reports are written into."""
    return {
        "BANDEJA_WAREHOUSE_DB": absolute(settings.warehouse_db),
        "BANDEJA_SERVING_BUILD_DB": absolute(build_path(Path(settings.serving_db))),
    }


def build_parse_inputs(bandeja: BandejaSettings) -> tuple[list[str], dict[str, str]]:
    """(options, env) of the parse behind a pipeline build, as `parsed_manifest` takes them."""
    settings = bandeja.settings()
    options = parse_options(dbt_build_args(bandeja.business_config(), dbt_target(settings.env)))
    return options, dbt_build_env(settings)


def start_build_parse(bandeja: BandejaSettings) -> None:
    """Parse the project for this run's dbt step in the background (`parse_in_background`): the
    first step of a pipeline run calls it before it pulls the feed."""
    parse_in_background(DBT_PROJECT_DIR, *build_parse_inputs(bandeja))


def dbt_env(as_of: dt.datetime | None = None) -> dict[str, str]:
    """The environment of one build: the `as_of` instant when given (read by
    stg_inbox__run_as_of; as an env var its change re-parses that one model, not the project)."""
    if as_of is None:
        return {}
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a timezone (an instant, stored in UTC)")
    return {AS_OF_ENV: as_of.astimezone(dt.UTC).isoformat()}


def checkpoint_env(*, vacuum: bool) -> dict[str, str]:
    """Whether the build's checkpoints may merge part-empty row groups (DuckDB's vacuum, see
    `checkpoint_vacuum()`): the daily build and a full refresh do, the runs between them do not,
    so the 2-7 s a checkpoint can spend on it lands once a day, not in a 10-minute run."""
    return {} if vacuum else {VACUUM_TASKS_ENV: "0"}


def dbt_build_args(
    config: BusinessConfig,
    target: str = "dev",
    *,
    full_refresh: bool = False,
    daily: bool = False,
) -> list[str]:
    """The dbt CLI arguments of a pipeline build (dagster-dbt adds the model selection).

    Unit tests (METRICS.md vectors and edge cases on fixed inputs) do not depend on the data, so
    they run in `make test` (tests/dbt runs a plain `dbt build`) and not in every scheduled
    build; data tests still run and surface as asset checks. The nodes tagged `daily` (data tests
    that read a 10 M-row table whole: ~4 s of a 10-minute run) run once a day and on a full
    refresh (`daily`).
    """
    return [
        "build",
        "--target",
        target,
        "--exclude-resource-type",
        "unit_test",
        *([] if full_refresh or daily else ["--exclude", f"tag:{DAILY_TAG}"]),
        "--vars",
        json.dumps(dbt_vars(config), sort_keys=True),
        *(["--full-refresh"] if full_refresh else []),
    ]


def _manifest_is_stale(project: DbtProject) -> bool:
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    return any(path.stat().st_mtime > built for path in project_files(project.project_dir))


def prepare_dbt_project(project_dir: Path = DBT_PROJECT_DIR) -> DbtProject:
    """The dbt project with an up-to-date `target/manifest.json`, parsed (in this process) only
    when its files changed.

    Parsing needs no warehouse, so definitions load on a fresh clone; the build itself runs later
    inside a step.
    """
    project = DbtProject(project_dir=project_dir, target_path=Path("target"))
    if _manifest_is_stale(project):
        parse_project(project.project_dir, write_json=True)
    return project


def dbt_resource(project: DbtProject) -> InProcessDbt:
    return InProcessDbt(project_dir=str(project.project_dir))


class BandejaDbtTranslator(DagsterDbtTranslator):
    """dbt sources keyed like the ingest assets (`raw.inbox_events` -> `raw_inbox_events`);
    models grouped by their layer folder (staging, intermediate, marts, reporting)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            relation = dbt_resource_props.get("identifier") or dbt_resource_props["name"]
            return dg.AssetKey(f"{dbt_resource_props['schema']}_{relation}")
        return super().get_asset_key(dbt_resource_props)

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        """A test tagged `daily` is a non-blocking check: most runs skip it, and Dagster warns
        about every blocking check a run leaves without a result. Publish still waits on it when
        it runs: a failed error-severity test fails the dbt step itself."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        test = manifest["nodes"].get(unique_id, {})
        if spec is not None and DAILY_TAG in test.get("tags", []):
            return spec._replace(blocking=False)
        return spec

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn") or []
        # fqn = [project, folder, ..., name]; models at the root fall back to dbt's default.
        if len(fqn) > 2:
            return str(fqn[1])
        return super().get_group_name(dbt_resource_props)


BANDEJA_DBT_PROJECT = prepare_dbt_project()


@dbt_assets(
    manifest=BANDEJA_DBT_PROJECT.manifest_path,
    project=BANDEJA_DBT_PROJECT,
    dagster_dbt_translator=BandejaDbtTranslator(),
    name=DBT_OP_NAME,
    pool=WAREHOUSE_POOL,
)
def bandeja_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: InProcessDbt,
    bandeja: BandejaSettings,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    settings = bandeja.settings()
    as_of = dt.datetime.fromisoformat(config.as_of) if config.as_of else None
    args = dbt_build_args(
        bandeja.business_config(),
        dbt_target(settings.env),
        full_refresh=config.full_refresh,
        daily=config.daily,
    )
    with warehouse_lock(settings.warehouse_db):
        # The marts and reports are written straight into the next snapshot (pipelines/serving.py).
        prepare_serving_build(settings.serving_db)
        yield from dbt.cli(
            args,
            context=context,
            env=dbt_build_env(settings),
            # Read by model and hook SQL only, when it compiles: a new as_of (or vacuum setting)
            # reuses the parsed manifest.
            sql_env={
                **dbt_env(as_of),
                **checkpoint_env(vacuum=config.daily or config.full_refresh),
            },
        )
