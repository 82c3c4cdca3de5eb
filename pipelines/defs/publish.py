"""Publish: the serving snapshot dbt built (pipelines/serving.py), swapped in as an asset."""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.dbt import bandeja_dbt_models
from pipelines.defs.resources import WAREHOUSE_POOL, BandejaSettings, warehouse_lock
from pipelines.serving import SERVING_PREFIXES, SERVING_TABLES, publish_serving_build

SERVING_ASSET = dg.AssetKey("serving_snapshot")


def _serving_deps() -> list[dg.AssetKey]:
    serving = [key for key in bandeja_dbt_models.keys if key.path[-1].startswith(SERVING_PREFIXES)]
    # Until marts exist, wait for every model so the publish step still runs after dbt.
    return serving or list(bandeja_dbt_models.keys)


@dg.asset(
    key=SERVING_ASSET,
    deps=_serving_deps(),
    group_name="publish",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description="data/serving/analytics.duckdb: the marts and reporting models, with their docs.",
)
def serving_snapshot(context: dg.AssetExecutionContext, bandeja: BandejaSettings):
    settings = bandeja.settings()
    with warehouse_lock(settings.warehouse_db):
        info = publish_serving_build(settings.warehouse_db, settings.serving_db)
    missing = sorted(set(SERVING_TABLES) - set(info.row_counts))
    if missing:
        context.log.warning(f"serving contract tables not built yet: {', '.join(missing)}")
    mode = "incremental" if info.incremental else "full"
    context.log.info(
        f"published {len(info.row_counts)} tables ({mode} build) to {info.path} in "
        f"{info.seconds} s; copied from the warehouse: {', '.join(info.copied)}"
        + ("; compacted" if info.compacted else "")
    )
    return dg.MaterializeResult(
        metadata={
            "path": str(info.path),
            "table_count": len(info.row_counts),
            "row_counts": dg.MetadataValue.json(info.row_counts),
            "incremental": info.incremental,
            "compacted": info.compacted,
            "copied_from_warehouse": dg.MetadataValue.json(list(info.copied)),
            "seconds": info.seconds,
        }
    )


def check_serving_snapshot(
    serving_db: Path, now: dt.datetime, max_age: dt.timedelta
) -> dg.AssetCheckResult:
    """Fresh enough, readable, and holding every table of the serving contract."""
    if not serving_db.exists():
        return dg.AssetCheckResult(passed=False, description=f"{serving_db} does not exist")
    published_at = dt.datetime.fromtimestamp(serving_db.stat().st_mtime, dt.UTC)
    age = now - published_at
    with duckdb.connect(str(serving_db), read_only=True) as con:
        tables = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
            ).fetchall()
        }
    missing = sorted(set(SERVING_TABLES) - tables)
    metadata = {
        "published_at": published_at.isoformat(),
        "age_seconds": round(age.total_seconds(), 1),
        "missing_tables": dg.MetadataValue.json(missing),
    }
    if missing:
        return dg.AssetCheckResult(
            passed=False,
            description=f"missing serving tables: {', '.join(missing)}",
            metadata=metadata,
        )
    if age > max_age:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"snapshot is {age} old (limit {max_age})",
            metadata=metadata,
        )
    return dg.AssetCheckResult(passed=True, metadata=metadata)


@dg.asset_check(
    asset=SERVING_ASSET,
    name="serving_snapshot_fresh",
    description="The snapshot exists, has every contract table and is at most 3 intervals old.",
)
def serving_snapshot_fresh(bandeja: BandejaSettings) -> dg.AssetCheckResult:
    settings = bandeja.settings()
    max_age = dt.timedelta(minutes=3 * settings.pipeline_interval_minutes)
    return check_serving_snapshot(settings.serving_db, dt.datetime.now(dt.UTC), max_age)
