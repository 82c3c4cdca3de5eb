"""Publish: copy the marts and reporting models into a fresh serving file, swapped atomically.

Readers (dashboards, the report, analysts) open `data/serving/analytics.duckdb` read-only and never
touch the warehouse, so they never wait on the pipeline's lock. The new snapshot is written next
to the target and renamed over it: a reader holding the old file keeps reading the old inode, the
next reader opens the new one, and nobody sees a half-written database.
"""

import datetime as dt
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.dbt import bandeja_dbt_models
from pipelines.defs.resources import WAREHOUSE_POOL, BandejaSettings, warehouse_lock

SERVING_PREFIXES = ("fct_", "dim_", "rpt_")
# The serving contract (docs/serving.md): consumers build on these names.
SERVING_TABLES = (
    "fct_messages",
    "fct_cycles",
    "fct_backlog_snapshots",
    "fct_escalations",
    "fct_csat_responses",
    "fct_leads",
    "dim_agents",
    "dim_teams",
    "dim_contacts",
    "dim_business_intervals",
    "rpt_kpis_daily",
    "rpt_kpis_weekly",
    "rpt_sla_breaches",
    "rpt_hourly_heatmap",
    "rpt_contact_reasons",
    "rpt_conversion_cohorts",
)
SERVING_ASSET = dg.AssetKey("serving_snapshot")


class PublishError(RuntimeError):
    """The snapshot could not be published; the old one stays in place."""


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path
    row_counts: dict[str, int] = field(default_factory=dict)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def publish_serving_snapshot(warehouse_db: Path, serving_db: Path) -> SnapshotInfo:
    """Copy every `fct_*`, `dim_*`, `rpt_*` relation of the warehouse's `main` schema, with table
    and column comments, into a new DuckDB file and rename it onto `serving_db`."""
    warehouse_db, serving_db = Path(warehouse_db), Path(serving_db)
    if not warehouse_db.exists():
        raise PublishError(f"{warehouse_db}: warehouse not found; run the pipeline first")
    serving_db.parent.mkdir(parents=True, exist_ok=True)
    staging = serving_db.with_name(f".{serving_db.name}.{uuid.uuid4().hex}.tmp")
    try:
        row_counts = _write_snapshot(warehouse_db, staging)
        # A WAL left by a crashed writer would be replayed onto the new file by the next opener.
        Path(f"{serving_db}.wal").unlink(missing_ok=True)
        os.replace(staging, serving_db)
    finally:
        staging.unlink(missing_ok=True)
        Path(f"{staging}.wal").unlink(missing_ok=True)
    return SnapshotInfo(path=serving_db, row_counts=row_counts)


def _write_snapshot(warehouse_db: Path, staging: Path) -> dict[str, int]:
    with duckdb.connect(str(staging)) as con:
        con.execute("ATTACH $1 AS wh (READ_ONLY)", [str(warehouse_db)])
        relations = con.execute(
            """
            SELECT table_name, comment FROM duckdb_tables()
            WHERE database_name = 'wh' AND schema_name = 'main'
            UNION ALL
            SELECT view_name, comment FROM duckdb_views()
            WHERE database_name = 'wh' AND schema_name = 'main' AND NOT internal
            ORDER BY 1
            """
        ).fetchall()
        relations = [
            (name, comment) for name, comment in relations if name.startswith(SERVING_PREFIXES)
        ]
        if not relations:
            raise PublishError(
                f"{warehouse_db}: no fct_/dim_/rpt_ relations in schema main; did dbt build run?"
            )
        columns = con.execute(
            """
            SELECT table_name, column_name, comment FROM duckdb_columns()
            WHERE database_name = 'wh' AND schema_name = 'main' AND comment IS NOT NULL
            """
        ).fetchall()
        row_counts: dict[str, int] = {}
        for name, comment in relations:
            ident = _quote_ident(name)
            con.execute(f"CREATE TABLE main.{ident} AS SELECT * FROM wh.main.{ident}")
            if comment:
                con.execute(f"COMMENT ON TABLE main.{ident} IS {_quote_literal(comment)}")
            row_counts[name] = con.execute(f"SELECT count(*) FROM main.{ident}").fetchall()[0][0]
        copied = set(row_counts)
        for table, column, comment in columns:
            if table in copied:
                con.execute(
                    f"COMMENT ON COLUMN main.{_quote_ident(table)}.{_quote_ident(column)} "
                    f"IS {_quote_literal(comment)}"
                )
        con.execute("DETACH wh")
        con.execute("CHECKPOINT")
    return row_counts


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
        info = publish_serving_snapshot(settings.warehouse_db, settings.serving_db)
    missing = sorted(set(SERVING_TABLES) - set(info.row_counts))
    if missing:
        context.log.warning(f"serving contract tables not built yet: {', '.join(missing)}")
    context.log.info(f"published {len(info.row_counts)} tables to {info.path}")
    return dg.MaterializeResult(
        metadata={
            "path": str(info.path),
            "table_count": len(info.row_counts),
            "row_counts": dg.MetadataValue.json(info.row_counts),
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
            row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
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
