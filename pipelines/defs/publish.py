"""Publish: copy the marts and reporting models into a fresh serving file, swapped atomically.

Readers (dashboards, the report, analysts) open `data/serving/analytics.duckdb` read-only and never
touch the warehouse, so they never wait on the pipeline's lock. The new snapshot is written next
to the target and renamed over it: a reader holding the old file keeps reading the old inode, the
next reader opens the new one, and nobody sees a half-written database.

The new file starts as a copy of the current one when a manifest next to it vouches for its
content, so a run that changed a day of data rewrites a day's worth of rows, not the 10 M-row
marts (see `publish_serving_snapshot`).
"""

import datetime as dt
import json
import os
import shutil
import time
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
    # How each table got into this snapshot: "copied" (written in full), "kept" (unchanged since
    # the previous snapshot), "patched" (only the keys whose rows changed were rewritten).
    actions: dict[str, str] = field(default_factory=dict)
    incremental: bool = False
    # Seconds per table, and for the whole publish's fixed parts ("copy file", "checkpoint").
    seconds: dict[str, float] = field(default_factory=dict)


# Tables keyed by conversation are patched key by key when they change: the dbt models rewrite
# only the conversations new events touched, so most of their rows stay as they were.
PATCH_KEY = "conversation_id"
# Pipeline bookkeeping, never published: the feed seq an incremental model computed a row at,
# or the hash of a report period's input (its next run rewrites what changed). Serving readers
# do not see them.
BOOKKEEPING_COLUMNS = frozenset({"source_seq", "source_hash", "source_quantile_hash"})
# Tables whose rows change only when their conversation gets new feed events (no dependency on
# as_of or on other conversations), and whose dbt model stamps every rewritten row with the
# feed's max seq (`source_seq`): the conversations rewritten since the last publish are exactly
# those with a source_seq above the one recorded then, so publish patches them without hashing
# the 10 M-row table on both sides.
SEQ_PATCHED_TABLES = frozenset({"fct_messages"})
SEQ_COLUMN = "source_seq"
SEQ_STATE_PREFIX = "seq"
# A reused snapshot keeps the blocks of replaced rows free for the next write; past this share of
# free blocks the next publish writes a compact file from scratch instead.
MAX_FREE_BLOCK_SHARE = 0.4
# Written next to the snapshot after each publish (`.analytics.duckdb.publish.json`): the file's
# identity and each table's fingerprint. A snapshot that does not match it (replaced, opened for
# writing, or published by an older version) is never reused.
MANIFEST_VERSION = 1


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def manifest_path(serving_db: Path) -> Path:
    return serving_db.with_name(f".{serving_db.name}.publish.json")


def _file_identity(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"inode": stat.st_ino, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _reusable_fingerprints(serving_db: Path) -> dict[str, str] | None:
    """The previous snapshot's table fingerprints, when that snapshot can be reused as a base."""
    manifest = manifest_path(serving_db)
    if not serving_db.exists() or not manifest.exists():
        return None
    if Path(f"{serving_db}.wal").exists():
        return None
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    if (
        data.get("version") != MANIFEST_VERSION
        # Row hashes are DuckDB's `hash()`: another DuckDB version may hash differently.
        or data.get("duckdb") != duckdb.__version__
        or data.get("file") != _file_identity(serving_db)
    ):
        return None
    return dict(data.get("tables", {}))


def _write_manifest(serving_db: Path, fingerprints: dict[str, str]) -> None:
    manifest = manifest_path(serving_db)
    staging = manifest.with_name(f"{manifest.name}.{uuid.uuid4().hex}.tmp")
    data = {
        "version": MANIFEST_VERSION,
        "duckdb": duckdb.__version__,
        "file": _file_identity(serving_db),
        "tables": fingerprints,
    }
    staging.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(staging, manifest)


def publish_serving_snapshot(
    warehouse_db: Path, serving_db: Path, *, incremental: bool = True
) -> SnapshotInfo:
    """Copy every `fct_*`, `dim_*`, `rpt_*` relation of the warehouse's `main` schema, with table
    and column comments, into a new DuckDB file and rename it onto `serving_db`.

    With `incremental` (the default) the new file starts as a copy of the current snapshot when
    its manifest vouches for it: tables whose fingerprint (schema, comments, row count and a sum
    of row hashes) did not change are kept, tables keyed by `conversation_id` get only their
    changed conversations rewritten, the rest are written in full. The result has the same
    tables, columns, comments and rows as a full publish (row order within a table may differ).
    """
    warehouse_db, serving_db = Path(warehouse_db), Path(serving_db)
    if not warehouse_db.exists():
        raise PublishError(f"{warehouse_db}: warehouse not found; run the pipeline first")
    serving_db.parent.mkdir(parents=True, exist_ok=True)
    staging = serving_db.with_name(f".{serving_db.name}.{uuid.uuid4().hex}.tmp")
    previous = _reusable_fingerprints(serving_db) if incremental else None
    seconds: dict[str, float] = {}
    try:
        if previous is not None:
            started = time.monotonic()
            # sendfile/copy_file_range: no Python loop; the old file is never written again.
            shutil.copyfile(serving_db, staging)
            seconds["copy file"] = round(time.monotonic() - started, 2)
        written = _write_snapshot(warehouse_db, staging, previous, seconds)
        if written is None:
            # Too much free space in the reused file: start over from an empty one.
            staging.unlink()
            previous = None
            seconds.clear()
            written = _write_snapshot(warehouse_db, staging, None, seconds)
        assert written is not None
        row_counts, fingerprints, actions = written
        # A WAL left by a crashed writer would be replayed onto the new file by the next opener.
        Path(f"{serving_db}.wal").unlink(missing_ok=True)
        manifest_path(serving_db).unlink(missing_ok=True)
        os.replace(staging, serving_db)
        _write_manifest(serving_db, fingerprints)
    finally:
        staging.unlink(missing_ok=True)
        Path(f"{staging}.wal").unlink(missing_ok=True)
    return SnapshotInfo(
        path=serving_db,
        row_counts=row_counts,
        actions=actions,
        incremental=previous is not None,
        seconds=seconds,
    )


@dataclass(frozen=True)
class _Relation:
    name: str
    comment: str | None
    columns: list[tuple[str, str, str | None]]  # (name, type, comment) in column order
    has_source_seq: bool = False  # the warehouse table has the bookkeeping column source_seq

    def signature(self) -> str:
        """Everything but the rows: a change here rewrites the table in full."""
        return json.dumps([self.comment, self.columns])

    @property
    def ident(self) -> str:
        return _quote_ident(self.name)

    def select_list(self, alias: str) -> str:
        """The published columns, in order (bookkeeping columns left out)."""
        return ", ".join(f"{alias}.{_quote_ident(name)}" for name, _, _ in self.columns)

    def row_hash(self, alias: str) -> str:
        """SQL for one row's hash (over every published column, in order)."""
        return f"hash({self.select_list(alias)})"

    @property
    def patch_key(self) -> str | None:
        return PATCH_KEY if any(name == PATCH_KEY for name, _, _ in self.columns) else None

    @property
    def seq_patched(self) -> bool:
        return (
            self.name in SEQ_PATCHED_TABLES and self.has_source_seq and self.patch_key is not None
        )


def _relations(con: duckdb.DuckDBPyConnection, warehouse_db: Path) -> list[_Relation]:
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
    columns: dict[str, list[tuple[str, str, str | None]]] = {}
    with_seq: set[str] = set()
    for table, column, data_type, comment in con.execute(
        """
        SELECT table_name, column_name, data_type, comment FROM duckdb_columns()
        WHERE database_name = 'wh' AND schema_name = 'main'
        ORDER BY table_name, column_index
        """
    ).fetchall():
        if column not in BOOKKEEPING_COLUMNS:
            columns.setdefault(table, []).append((column, data_type, comment))
        elif column == SEQ_COLUMN:
            with_seq.add(table)
    return [
        _Relation(name, comment, columns.get(name, []), name in with_seq)
        for name, comment in relations
    ]


def _fingerprint(relation: _Relation, rows: int, state: int | str) -> str:
    """rows, content state (a sum of row hashes, or `seq<N>` for a seq-patched table: the
    warehouse's max source_seq the snapshot holds) and the signature."""
    return f"{rows}:{state}:{relation.signature()}"


def _write_snapshot(
    warehouse_db: Path, staging: Path, previous: dict[str, str] | None, seconds: dict[str, float]
) -> tuple[dict[str, int], dict[str, str], dict[str, str]] | None:
    """Fill `staging` (empty, or a copy of the snapshot `previous` describes) from the
    warehouse. Returns (row counts, fingerprints, actions), or None when the reused file has
    too much free space left and should be written from scratch instead."""
    row_counts: dict[str, int] = {}
    fingerprints: dict[str, str] = {}
    actions: dict[str, str] = {}
    with duckdb.connect(str(staging)) as con:
        con.execute("ATTACH $1 AS wh (READ_ONLY)", [str(warehouse_db)])
        relations = _relations(con, warehouse_db)
        wanted = {relation.name for relation in relations}
        if previous is not None:
            existing = {
                row[0]
                for row in con.execute(
                    "SELECT table_name FROM duckdb_tables() "
                    "WHERE database_name = current_database()"
                ).fetchall()
            }
            for name in sorted(existing - wanted):
                con.execute(f"DROP TABLE main.{_quote_ident(name)}")
        for relation in relations:
            started = time.monotonic()
            old = (previous or {}).get(relation.name)
            if old is None:
                rows, hash_sum = _copy_table(con, relation)
                actions[relation.name] = "copied"
            else:
                rows, hash_sum, actions[relation.name] = _update_table(con, relation, old)
            row_counts[relation.name] = rows
            fingerprints[relation.name] = _fingerprint(relation, rows, hash_sum)
            seconds[relation.name] = round(time.monotonic() - started, 2)
        started = time.monotonic()
        con.execute("DETACH wh")
        con.execute("CHECKPOINT")
        seconds["checkpoint"] = round(time.monotonic() - started, 2)
        if previous is not None:
            total, free = con.execute(
                "SELECT total_blocks, free_blocks FROM pragma_database_size()"
            ).fetchall()[0]
            if total and free / total > MAX_FREE_BLOCK_SHARE:
                return None
    return row_counts, fingerprints, actions


def _copy_table(con: duckdb.DuckDBPyConnection, relation: _Relation) -> tuple[int, int | str]:
    """Write one relation in full, with its comments; returns (rows, hash sum)."""
    ident = relation.ident
    con.execute(f"DROP TABLE IF EXISTS main.{ident}")
    con.execute(
        f"CREATE TABLE main.{ident} AS SELECT {relation.select_list('t')} FROM wh.main.{ident} t"
    )
    if relation.comment:
        con.execute(f"COMMENT ON TABLE main.{ident} IS {_quote_literal(relation.comment)}")
    for column, _, comment in relation.columns:
        if comment:
            con.execute(
                f"COMMENT ON COLUMN main.{ident}.{_quote_ident(column)} "
                f"IS {_quote_literal(comment)}"
            )
    if relation.seq_patched:
        return _seq_state(con, relation)
    return _table_hash(con, f"main.{ident}", relation)


def _seq_state(con: duckdb.DuckDBPyConnection, relation: _Relation) -> tuple[int, str]:
    """The warehouse table's row count and max source_seq, as (rows, 'seq<N>')."""
    rows, seq = con.execute(
        f"SELECT count(*), coalesce(max({_quote_ident(SEQ_COLUMN)}), -1) "
        f"FROM wh.main.{relation.ident}"
    ).fetchall()[0]
    return int(rows), f"{SEQ_STATE_PREFIX}{int(seq)}"


def _recorded_seq(state: str) -> int | None:
    """The source_seq a fingerprint's state records; None for a row-hash state."""
    return int(state.removeprefix(SEQ_STATE_PREFIX)) if state.startswith(SEQ_STATE_PREFIX) else None


def _delete_changed_keys(con: duckdb.DuckDBPyConnection, relation: _Relation) -> None:
    """Delete from the snapshot every row whose key is in the temp table publish_changed_keys."""
    qkey = _quote_ident(PATCH_KEY)
    con.execute(
        f"DELETE FROM main.{relation.ident} t USING publish_changed_keys c "
        f"WHERE t.{qkey} IS NOT DISTINCT FROM c.k"
    )


def _table_hash(con: duckdb.DuckDBPyConnection, table: str, relation: _Relation) -> tuple[int, int]:
    rows, hash_sum = con.execute(
        f"SELECT count(*), coalesce(sum({relation.row_hash('t')}), 0) FROM {table} t"
    ).fetchall()[0]
    return int(rows), int(hash_sum)


def _update_table(
    con: duckdb.DuckDBPyConnection, relation: _Relation, old_fingerprint: str
) -> tuple[int, int | str, str]:
    """Bring one table of the reused snapshot up to the warehouse's; returns (rows, hash sum,
    action)."""
    ident = relation.ident
    key = relation.patch_key
    old_rows, old_hash, old_signature = old_fingerprint.split(":", 2)
    if old_signature != relation.signature():
        return (*_copy_table(con, relation), "copied")
    if relation.seq_patched:
        return _update_by_seq(con, relation, int(old_rows), old_hash)
    if key is None:
        rows, hash_sum = _table_hash(con, f"wh.main.{ident}", relation)
        if (str(rows), str(hash_sum)) == (old_rows, old_hash):
            return rows, hash_sum, "kept"
        return (*_copy_table(con, relation), "copied")
    # Keyed: hash every key's rows on the warehouse side once; the totals say whether anything
    # changed, and only then is the snapshot side hashed to find which keys.
    qkey = _quote_ident(key)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE publish_new_keys AS
        SELECT t.{qkey} AS k, sum({relation.row_hash("t")}) AS h, count(*) AS n
        FROM wh.main.{ident} t GROUP BY ALL
        """
    )
    rows, hash_sum = con.execute(
        "SELECT coalesce(sum(n), 0), coalesce(sum(h), 0) FROM publish_new_keys"
    ).fetchall()[0]
    rows, hash_sum = int(rows), int(hash_sum)
    if (str(rows), str(hash_sum)) == (old_rows, old_hash):
        con.execute("DROP TABLE publish_new_keys")
        return rows, hash_sum, "kept"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE publish_changed_keys AS
        WITH old AS (
            SELECT t.{qkey} AS k, sum({relation.row_hash("t")}) AS h, count(*) AS n
            FROM main.{ident} t GROUP BY ALL
        )
        SELECT coalesce(new.k, old.k) AS k
        FROM publish_new_keys new FULL OUTER JOIN old ON new.k IS NOT DISTINCT FROM old.k
        WHERE new.h IS DISTINCT FROM old.h OR new.n IS DISTINCT FROM old.n
        """
    )
    _delete_changed_keys(con, relation)
    con.execute(
        f"INSERT INTO main.{ident} SELECT {relation.select_list('t')} FROM wh.main.{ident} t "
        f"SEMI JOIN publish_changed_keys c ON t.{qkey} IS NOT DISTINCT FROM c.k"
    )
    con.execute("DROP TABLE publish_new_keys")
    con.execute("DROP TABLE publish_changed_keys")
    return rows, hash_sum, "patched"


def _update_by_seq(
    con: duckdb.DuckDBPyConnection, relation: _Relation, old_rows: int, old_state: str
) -> tuple[int, str, str]:
    """Patch a seq-patched table: rewrite the conversations with rows newer than the recorded
    source_seq. A table whose seq went backwards (rebuilt from another feed), a snapshot written
    without a recorded seq, or a row count that disagrees after the patch gets a full copy."""
    ident, seq_column = relation.ident, _quote_ident(SEQ_COLUMN)
    rows, state = _seq_state(con, relation)
    old_seq = _recorded_seq(old_state)
    if old_seq is None or _recorded_seq(state) < old_seq:
        return (*_copy_table(con, relation), "copied")
    if state == old_state and rows == old_rows:
        return rows, state, "kept"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE publish_changed_keys AS
        SELECT DISTINCT {_quote_ident(PATCH_KEY)} AS k FROM wh.main.{ident}
        WHERE {seq_column} > {old_seq}
        """
    )
    _delete_changed_keys(con, relation)
    # A rewrite stamps all rows of its conversation: the new rows are those above the seq, and
    # the seq-ordered appends let DuckDB skip the older row groups.
    con.execute(
        f"INSERT INTO main.{ident} SELECT {relation.select_list('t')} FROM wh.main.{ident} t "
        f"WHERE t.{seq_column} > {old_seq}"
    )
    con.execute("DROP TABLE publish_changed_keys")
    patched = con.execute(f"SELECT count(*) FROM main.{ident}").fetchall()[0][0]
    if patched != rows:
        return (*_copy_table(con, relation), "copied")
    return rows, state, "patched"


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
    mode = "incrementally" if info.incremental else "in full"
    context.log.info(
        f"published {len(info.row_counts)} tables {mode} to {info.path}: "
        f"{json.dumps(info.actions)}; seconds {json.dumps(info.seconds)}"
    )
    return dg.MaterializeResult(
        metadata={
            "path": str(info.path),
            "table_count": len(info.row_counts),
            "row_counts": dg.MetadataValue.json(info.row_counts),
            "incremental": info.incremental,
            "table_actions": dg.MetadataValue.json(info.actions),
            "seconds": dg.MetadataValue.json(info.seconds),
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
