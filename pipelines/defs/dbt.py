"""dbt assets: every model of `dbt_project/` as an asset, its data tests as asset checks."""

import datetime as dt
import fcntl
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from ingest.config import BusinessConfig
from pipelines.defs.resources import (
    WAREHOUSE_POOL,
    BandejaSettings,
    absolute,
    dbt_target,
    environ,
    warehouse_lock,
)
from pipelines.serving import prepare_serving_build

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DBT_OP_NAME = "bandeja_dbt"
AS_OF_ENV = "BANDEJA_DBT_AS_OF"
# The dbt installed in this interpreter's environment.
SIBLING_DBT = Path(sys.executable).parent / "dbt"
# Files whose change makes the parsed manifest stale.
_PROJECT_SOURCES = ("models", "macros", "tests", "seeds", "snapshots", "analyses")


class DbtBuildConfig(dg.Config):
    """Run config of the dbt step."""

    as_of: str | None = None  # ISO UTC instant; None lets dbt use the last event's time
    # Rebuild every incremental model from the raw feed: after an upgrade that changes a model's
    # columns or incremental logic, or a change to the business calendar.
    full_refresh: bool = False


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


def dbt_env(as_of: dt.datetime | None = None) -> dict[str, str]:
    """The environment of one build: the `as_of` instant when given (read by
    stg_inbox__run_as_of; as an env var its change re-parses that one model, not the project)."""
    if as_of is None:
        return {}
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a timezone (an instant, stored in UTC)")
    return {AS_OF_ENV: as_of.astimezone(dt.UTC).isoformat()}


def dbt_build_args(
    config: BusinessConfig, target: str = "dev", *, full_refresh: bool = False
) -> list[str]:
    """The dbt CLI arguments of a pipeline build (dagster-dbt adds the model selection).

    Unit tests (METRICS.md vectors and edge cases on fixed inputs) do not depend on the data, so
    they run in `make test` (tests/dbt runs a plain `dbt build`) and not in every scheduled
    build; data tests still run and surface as asset checks.
    """
    return [
        "build",
        "--target",
        target,
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        json.dumps(dbt_vars(config), sort_keys=True),
        *(["--full-refresh"] if full_refresh else []),
    ]


def _manifest_is_stale(project: DbtProject) -> bool:
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    candidates = [project.project_dir / "dbt_project.yml"]
    for folder in _PROJECT_SOURCES:
        candidates.extend((project.project_dir / folder).rglob("*"))
    return any(path.is_file() and path.stat().st_mtime > built for path in candidates)


def prepare_dbt_project(project_dir: Path = DBT_PROJECT_DIR) -> DbtProject:
    """The dbt project with an up-to-date manifest: `dbt parse` runs only when sources changed.

    Parsing needs no warehouse, so definitions load on a fresh clone; the build itself runs later
    inside a step.
    """
    project = DbtProject(project_dir=project_dir, target_path=Path("target"))
    if not _manifest_is_stale(project):
        return project
    lock_path = project.project_dir / project.target_path / ".parse.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # `dagster dev` loads the location in several processes at once; one parses, the rest wait.
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _manifest_is_stale(project):
            dbt_resource(project).cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return project


def dbt_executable() -> str:
    """dbt next to this interpreter (a venv that is not on PATH), else whatever PATH has."""
    return str(SIBLING_DBT) if SIBLING_DBT.exists() else "dbt"


class BandejaDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource without two start-up costs of every run, together about 3 s of
    a 10-minute incremental run: its `dbt --version` subprocess (the dbt next to this interpreter
    is the dbt-core installed here, so its version is the package's), and an in-process dbt
    adapter, which dagster-dbt uses only for `fetch_row_counts()` / `fetch_column_metadata()`
    (not called here)."""

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) != SIBLING_DBT:
            return super()._cli_version
        return version.parse(importlib.metadata.version("dbt-core"))


def dbt_resource(project: DbtProject) -> DbtCliResource:
    return BandejaDbtCliResource(project_dir=project, dbt_executable=dbt_executable())


class BandejaDbtTranslator(DagsterDbtTranslator):
    """dbt sources keyed like the ingest assets (`raw.inbox_events` -> `raw_inbox_events`);
    models grouped by their layer folder (staging, intermediate, marts, reporting)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            relation = dbt_resource_props.get("identifier") or dbt_resource_props["name"]
            return dg.AssetKey(f"{dbt_resource_props['schema']}_{relation}")
        return super().get_asset_key(dbt_resource_props)

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
    dbt: DbtCliResource,
    bandeja: BandejaSettings,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    settings = bandeja.settings()
    as_of = dt.datetime.fromisoformat(config.as_of) if config.as_of else None
    args = dbt_build_args(
        bandeja.business_config(), dbt_target(settings.env), full_refresh=config.full_refresh
    )
    # A private target dir per run keeps concurrent runs' artifacts apart. It starts with the
    # partial-parse file of the last successful build (same vars, so dbt re-parses only changed
    # files: 2 s less than a full parse), else the one `prepare_dbt_project` wrote. A failed build
    # keeps its dir: the error message points at its dbt.log.
    target_dir = Path(tempfile.mkdtemp(prefix="bandeja-dbt-"))
    prepared = BANDEJA_DBT_PROJECT.manifest_path.parent / "partial_parse.msgpack"
    last_build = prepared.with_name("partial_parse.last_build.msgpack")
    for seed in (last_build, prepared):
        if seed.exists():
            shutil.copy2(seed, target_dir / prepared.name)
            break
    with warehouse_lock(settings.warehouse_db):
        # The marts and reports are written straight into the next snapshot (pipelines/serving.py).
        build = prepare_serving_build(settings.serving_db)
        with environ(
            {
                "BANDEJA_WAREHOUSE_DB": absolute(settings.warehouse_db),
                "BANDEJA_SERVING_BUILD_DB": absolute(build),
                **dbt_env(as_of),
            }
        ):
            invocation = dbt.cli(args, context=context, target_path=target_dir)
            yield from invocation.stream()
    parsed = target_dir / prepared.name
    if parsed.exists():
        staging = last_build.with_name(f"{last_build.name}.{uuid.uuid4().hex}.tmp")
        shutil.copy2(parsed, staging)
        os.replace(staging, last_build)
    shutil.rmtree(target_dir, ignore_errors=True)
