"""The serving snapshot: the file dbt builds it in, and its atomic swap into place.

Readers (dashboards, the report, analysts) open `data/serving/analytics.duckdb` read-only and never
touch the warehouse, so they never wait on the pipeline's lock. dbt writes the marts and reports
straight into a build file next to the snapshot (attached as `serving`, see profiles.yml). The
build file starts as a copy of the current snapshot when a manifest next to it vouches for it, so
an incremental run rewrites only what changed and a full build writes each table once.

Publishing copies in the few reports dbt keeps in the warehouse (their period hashes are
bookkeeping, not for readers), checkpoints, and renames the build file onto the snapshot: a reader
holding the old file keeps reading the old inode, the next reader opens the new one, and nobody
sees a half-written database.
"""

import atexit
import contextlib
import json
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

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
# Pipeline bookkeeping of the reports dbt keeps in the warehouse (the hash of a period's input,
# so the next run recomputes only the periods that changed): never published.
BOOKKEEPING_COLUMNS = frozenset({"source_quantile_hash"})
# A snapshot reused as the next build keeps the blocks of rewritten rows free for later writes;
# past this share of free blocks, publish writes a compact copy instead.
MAX_FREE_BLOCK_SHARE = 0.4
# Written next to the snapshot after each publish (`.analytics.duckdb.publish.json`): the
# snapshot's identity. A snapshot that does not match it (replaced, opened for writing, or
# written by another version) is never reused: the next build starts from an empty file. (After
# an inbox reset the feed's seqs restart: run `bandeja pipeline run --full-refresh`.)
MANIFEST_VERSION = 2
# A copy file (`.analytics.duckdb.build.<hex>.tmp`) this old is a crashed run's: removed.
STALE_COPY_SECONDS = 3600.0


class PublishError(RuntimeError):
    """The snapshot could not be published; the old one stays in place."""


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path
    row_counts: dict[str, int] = field(default_factory=dict)
    # The reports copied in from the warehouse (the rest dbt built in the file itself).
    copied: tuple[str, ...] = ()
    # The build started from the previous snapshot (an incremental build), not an empty file.
    incremental: bool = False
    # The file was rewritten compactly (too many free blocks after incremental builds).
    compacted: bool = False
    seconds: float = 0.0


def manifest_path(serving_db: Path) -> Path:
    return serving_db.with_name(f".{serving_db.name}.publish.json")


def build_path(serving_db: Path) -> Path:
    """The file dbt builds the next snapshot in (hidden, next to the snapshot)."""
    return serving_db.with_name(f".{serving_db.name}.build")


def _file_identity(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"inode": stat.st_ino, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    Path(f"{path}.wal").unlink(missing_ok=True)


def _reusable(serving_db: Path) -> bool:
    """The snapshot is exactly what the last publish wrote."""
    manifest = manifest_path(serving_db)
    if not serving_db.exists() or not manifest.exists():
        return False
    if Path(f"{serving_db}.wal").exists():
        return False
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    return (
        data.get("version") == MANIFEST_VERSION
        and data.get("duckdb") == duckdb.__version__
        and data.get("file") == _file_identity(serving_db)
    )


@dataclass
class _EarlyCopy:
    serving_db: Path
    staging: Path
    # The snapshot's identity throughout the copy; None until (unless) the copy ends well.
    identity: dict[str, int] | None = None
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._copy, name="serving-copy", daemon=True)

    def _copy(self) -> None:
        # A copy that fails (a full disk, say) is left to prepare_serving_build, which copies
        # again and raises the error in the dbt step.
        with contextlib.suppress(OSError):
            self.identity = _copy_snapshot(self.serving_db, self.staging)
        if self.identity is None:
            self.staging.unlink(missing_ok=True)


_early_copies: dict[Path, _EarlyCopy] = {}
_early_lock = threading.Lock()


def _copy_name(build: Path) -> Path:
    return build.with_name(f"{build.name}.{uuid.uuid4().hex}.tmp")


def _copy_snapshot(serving_db: Path, staging: Path) -> dict[str, int] | None:
    """Copy the snapshot into `staging` (copy_file_range/sendfile, no Python loop; the
    snapshot itself is never written); its identity when it was the vouched-for file throughout
    the copy, else None."""
    if not _reusable(serving_db):
        return None
    before = _file_identity(serving_db)
    shutil.copyfile(serving_db, staging)
    after = _file_identity(serving_db) if serving_db.exists() else None
    return before if after == before else None


def start_serving_copy(serving_db: Path) -> None:
    """Start copying the snapshot for this process's next `prepare_serving_build`, on a daemon
    thread, so the copy (1.4 s of kernel time for the 10 M-message bench's 0.5 GB snapshot)
    overlaps the steps before dbt instead of delaying dbt's first query. A snapshot published
    meanwhile (by another run) makes `prepare_serving_build` discard the copy and copy again."""
    serving_db = Path(serving_db)
    early = _EarlyCopy(serving_db, _copy_name(build_path(serving_db)))
    with _early_lock:
        previous = _early_copies.pop(serving_db, None)
        _early_copies[serving_db] = early
    if previous is not None:
        previous.thread.join()
        previous.staging.unlink(missing_ok=True)
    early.thread.start()


def _take_early_copy(serving_db: Path) -> Path | None:
    """The finished early copy of the snapshot as it is now, if there is one; else None (and no
    copy file left behind)."""
    with _early_lock:
        early = _early_copies.pop(serving_db, None)
    if early is None:
        return None
    early.thread.join()
    if (
        early.identity is not None
        and early.staging.exists()
        and _reusable(serving_db)
        and _file_identity(serving_db) == early.identity
    ):
        return early.staging
    early.staging.unlink(missing_ok=True)
    return None


@atexit.register
def _discard_early_copies() -> None:
    """At exit, the copies no build took (a run that stopped before its dbt step)."""
    with _early_lock:
        copies = list(_early_copies.values())
        _early_copies.clear()
    for early in copies:
        early.thread.join()
        early.staging.unlink(missing_ok=True)


def _remove_stale_copies(build: Path) -> None:
    """Copy files a crashed run left (a copy in progress is never this old)."""
    cutoff = time.time() - STALE_COPY_SECONDS
    for path in build.parent.glob(f"{build.name}.*.tmp"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            continue


def prepare_serving_build(serving_db: Path) -> Path:
    """The build file for the next dbt run: a copy of the current snapshot when its manifest
    vouches for it, else absent (dbt then creates it and builds every serving table in full).
    A build file left by a failed run is discarded either way. The copy is the one
    `start_serving_copy` made, when it is of the snapshot still in place."""
    serving_db, build = Path(serving_db), build_path(Path(serving_db))
    serving_db.parent.mkdir(parents=True, exist_ok=True)
    _remove(build)
    _remove_stale_copies(build)
    staging = _take_early_copy(serving_db)
    try:
        if staging is None and _reusable(serving_db):
            staging = _copy_name(build)
            shutil.copyfile(serving_db, staging)
        if staging is not None:
            os.replace(staging, build)
    finally:
        if staging is not None:
            staging.unlink(missing_ok=True)
    return build


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_warehouse_reports(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Copy the serving relations dbt keeps in the warehouse (attached as `wh`) into the build
    file, without their bookkeeping columns, with their comments. Returns their names."""
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
    copied = []
    for name, comment in relations:
        if not name.startswith(SERVING_PREFIXES):
            continue
        columns = [
            (column, column_comment)
            for column, column_comment in con.execute(
                "SELECT column_name, comment FROM duckdb_columns() "
                "WHERE database_name = 'wh' AND schema_name = 'main' AND table_name = $1 "
                "ORDER BY column_index",
                [name],
            ).fetchall()
            if column not in BOOKKEEPING_COLUMNS
        ]
        ident = _quote_ident(name)
        select = ", ".join(_quote_ident(column) for column, _ in columns)
        con.execute(f"CREATE OR REPLACE TABLE main.{ident} AS SELECT {select} FROM wh.main.{ident}")
        if comment:
            con.execute(f"COMMENT ON TABLE main.{ident} IS {_quote_literal(comment)}")
        for column, column_comment in columns:
            if column_comment:
                con.execute(
                    f"COMMENT ON COLUMN main.{ident}.{_quote_ident(column)} "
                    f"IS {_quote_literal(column_comment)}"
                )
        copied.append(name)
    return tuple(copied)


def _row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = [
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = 'main' ORDER BY 1"
        ).fetchall()
    ]
    return {
        name: int(con.execute(f"SELECT count(*) FROM main.{_quote_ident(name)}").fetchall()[0][0])
        for name in names
        if name.startswith(SERVING_PREFIXES)
    }


def _free_share(con: duckdb.DuckDBPyConnection) -> float:
    total, free = con.execute(
        "SELECT total_blocks, free_blocks FROM pragma_database_size() "
        "WHERE database_name = current_database()"
    ).fetchall()[0]
    return free / total if total else 0.0


def _compact(build: Path) -> None:
    """Rewrite the build file without its free blocks (same catalog, same rows)."""
    compact = build.with_name(f"{build.name}.{uuid.uuid4().hex}.compact")
    try:
        with duckdb.connect(str(compact)) as con:
            con.execute("ATTACH $1 AS old (READ_ONLY)", [str(build)])
            (database,) = con.execute("SELECT current_database()").fetchall()[0]
            con.execute(f"COPY FROM DATABASE old TO {_quote_ident(database)}")
            con.execute("DETACH old")
            con.execute("CHECKPOINT")
        os.replace(compact, build)
        Path(f"{build}.wal").unlink(missing_ok=True)
    finally:
        _remove(compact)


def publish_serving_build(warehouse_db: Path, serving_db: Path) -> SnapshotInfo:
    """Finish the build file dbt wrote (`build_path(serving_db)`) and swap it in as the
    snapshot; the old snapshot stays in place when anything fails."""
    warehouse_db, serving_db = Path(warehouse_db), Path(serving_db)
    build = build_path(serving_db)
    if not warehouse_db.exists():
        raise PublishError(f"{warehouse_db}: warehouse not found; run the pipeline first")
    if not build.exists():
        raise PublishError(f"{build}: no serving build; did dbt build run?")
    started = time.monotonic()
    incremental = _reusable(serving_db)
    try:
        with duckdb.connect(str(build)) as con:
            con.execute("ATTACH $1 AS wh (READ_ONLY)", [str(warehouse_db)])
            copied = _copy_warehouse_reports(con)
            con.execute("DETACH wh")
            row_counts = _row_counts(con)
            if not row_counts:
                raise PublishError(f"{build}: no fct_/dim_/rpt_ tables; did dbt build run?")
            con.execute("CHECKPOINT")
            compacted = _free_share(con) > MAX_FREE_BLOCK_SHARE
        if compacted:
            _compact(build)
        # A WAL left by a crashed writer would be replayed onto the new file by the next opener.
        Path(f"{serving_db}.wal").unlink(missing_ok=True)
        manifest_path(serving_db).unlink(missing_ok=True)
        os.replace(build, serving_db)
        _write_manifest(serving_db)
    except BaseException:
        _remove(build)
        raise
    return SnapshotInfo(
        path=serving_db,
        row_counts=row_counts,
        copied=copied,
        incremental=incremental,
        compacted=compacted,
        seconds=round(time.monotonic() - started, 2),
    )


def _write_manifest(serving_db: Path) -> None:
    manifest = manifest_path(serving_db)
    staging = manifest.with_name(f"{manifest.name}.{uuid.uuid4().hex}.tmp")
    data = {
        "version": MANIFEST_VERSION,
        "duckdb": duckdb.__version__,
        "file": _file_identity(serving_db),
    }
    staging.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(staging, manifest)
