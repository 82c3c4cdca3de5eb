"""dbt in the Dagster process: the project parsed once per process, builds streamed as events.

A `dbt build` subprocess pays for dbt's imports, a partial parse and its JSON artifacts on every
run (6-8 s of a 10-minute incremental run). Here dbt runs through `dbtRunner` in this process:
the parsed manifest is kept between builds (`parsed_manifest`), and each build runs on a worker
thread whose event callback feeds dagster-dbt's own event mapping, so the step yields the same
`Output`s and `AssetCheckResult`s, with the same metadata, as `DbtCliResource` would.
"""

import contextlib
import ctypes
import fcntl
import itertools
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_EXCLUDE_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    DAGSTER_DBT_SELECTOR_METADATA_KEY,
    DBT_INDIRECT_SELECTION_ENV,
    get_manifest_and_translator_from_dbt_assets,
    get_subset_selection_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
from dagster_dbt.core.dbt_event_iterator import DbtDagsterEventType
from dagster_dbt.dagster_dbt_translator import DagsterDbtTranslator
from dagster_dbt.dbt_project import DbtProject
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from pipelines.defs.resources import environ

# Files whose change makes a parsed manifest stale (relative to the project dir).
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "selectors.yml")
PROJECT_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
# Build options that shape the manifest: the parse behind a build sees the same ones.
PARSE_OPTIONS = ("--target", "--vars", "--profile")
# Where the builds' parse keeps its partial-parse file between processes (under the project's
# target dir): apart from the definitions' parse (default vars), so neither invalidates the other.
BUILD_PARSE_DIR = "build"
# The events dagster-dbt turns into materializations and check results.
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})
# dbt's console shows these levels by default; dagster-dbt echoed those lines to stdout.
SHOWN_LEVELS = frozenset({"info", "warn", "error"})


def project_files(project_dir: Path) -> Iterator[Path]:
    """The files a parse reads: the project's ymls and everything in its source folders."""
    for name in PROJECT_FILES:
        path = project_dir / name
        if path.is_file():
            yield path
    for folder in PROJECT_FOLDERS:
        yield from sorted(path for path in (project_dir / folder).rglob("*") if path.is_file())


def _fingerprint(project_dir: Path) -> list[tuple[str, int, int]]:
    fingerprint = []
    for path in project_files(project_dir):
        stat = path.stat()
        fingerprint.append((str(path), stat.st_mtime_ns, stat.st_size))
    return fingerprint


def parse_options(args: Sequence[str]) -> list[str]:
    """The options of `args` (`--target dev --vars {...}`) that a parse of the same project
    must share with it."""
    options: list[str] = []
    for flag, value in itertools.pairwise(args):
        if flag in PARSE_OPTIONS:
            options += [flag, value]
    return options


def invoke_dbt(args: Sequence[str], **runner_kwargs: Any) -> Any:
    """`dbtRunner(**runner_kwargs).invoke(args)`, imported on first use: dbt's CLI module costs
    half a second that a definitions load without a parse does not need."""
    from dbt.cli.main import dbtRunner

    return dbtRunner(**runner_kwargs).invoke(list(args))


def parse_project(
    project_dir: Path,
    options: Sequence[str] = (),
    *,
    target_dir: str = ".",
    write_json: bool = False,
) -> Any:
    """`dbt parse` in this process, partial when `target/<target_dir>/partial_parse.msgpack`
    allows; returns dbt's `Manifest`. `write_json` also writes `manifest.json` there (what
    `@dbt_assets` reads).

    One parse at a time per project: `dagster dev` loads the location in several processes at
    once, and dbt rewrites the partial-parse file in place.
    """
    target = project_dir / "target" / target_dir
    target.mkdir(parents=True, exist_ok=True)
    with (project_dir / "target" / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = invoke_dbt(
            [
                "parse",
                "--project-dir",
                str(project_dir),
                "--profiles-dir",
                str(project_dir),
                "--target-path",
                str(target),
                "--log-path",
                str(target),
                "--log-level-file",
                "none",
                "--quiet",
                "--write-json" if write_json else "--no-write-json",
                *options,
            ]
        )
    if not result.success:
        raise DagsterDbtCliRuntimeError(
            description=f"dbt parse of {project_dir} failed: {result.exception}"
        )
    return result.result


@dataclass(frozen=True)
class _ParsedManifest:
    key: tuple[list[str], list[tuple[str, str]], list[tuple[str, int, int]]]
    # Serialized as dbt's partial-parse file is: each build gets its own copy, because a build
    # writes into the nodes it compiles (compiled SQL, and "CTEs injected" flags that would stop
    # the next build from injecting ephemeral models). A copy costs ~40 ms; a partial parse
    # 0.2-1 s, a full one 6 s. (pickle and Manifest.deepcopy() lose fields in dbt 1.11.)
    msgpack: bytes


def _serialize(manifest: Any) -> bytes:
    from dbt.parser.manifest import extended_mashumaro_encoder

    return manifest.to_msgpack(extended_mashumaro_encoder)


def _deserialize(data: bytes) -> Any:
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder  # sic: dbt's spelling

    return Manifest.from_msgpack(data, decoder=extended_mashumuro_decoder)


_parsed: dict[Path, _ParsedManifest] = {}
_parsed_lock = threading.Lock()


def parsed_manifest(project_dir: Path, options: Sequence[str], env: Mapping[str, str]) -> Any:
    """A fresh copy of the project's manifest as parsed with `options` under `env`, parsing only
    when this process has none for the same project files, options and env.

    `env` is what the build sets that the profile or the project may read (the warehouse path
    names the relations' database); variables read only by model SQL, such as the as_of instant,
    stay out of it: SQL compiles when the build runs, so they never make a manifest stale.
    """
    key = (list(options), sorted(env.items()), _fingerprint(project_dir))
    with _parsed_lock:
        cached = _parsed.get(project_dir)
        if cached is not None and cached.key == key:
            return _deserialize(cached.msgpack)
        with environ(dict(env)):
            manifest = parse_project(project_dir, options, target_dir=BUILD_PARSE_DIR)
        _parsed[project_dir] = _ParsedManifest(key, _serialize(manifest))
        return manifest


def parse_in_background(
    project_dir: Path, options: Sequence[str], env: Mapping[str, str]
) -> threading.Thread:
    """Start `parsed_manifest(project_dir, options, env)` on a daemon thread, so a build that
    asks for the same manifest later finds it parsed (or waits for the parse under way).

    A fresh process spends ~3 s of a run in this parse, almost all of it in Python; started while
    an earlier step waits on the network, it overlaps that wait. A parse that fails is left for
    the build's own `parsed_manifest` call, which parses again and raises dbt's error.
    """

    def parse() -> None:
        with contextlib.suppress(Exception):
            parsed_manifest(project_dir, options, env)

    thread = threading.Thread(target=parse, name="dbt-parse", daemon=True)
    thread.start()
    return thread


def close_warehouse() -> None:
    """Close the DuckDB database dbt-duckdb keeps open after a build.

    dbt-duckdb opens one database per process and keeps it open (`keep_open`, its default) so a
    build does not reopen it between nodes; dbt closes only its connections when a command ends,
    so the file would stay open, and a later `duckdb.connect` in this process (the next run's
    calendar step, publish, a test) would fail on a different configuration or the lock.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if environment is not None:
            environment.close()


def _interrupt(thread: threading.Thread) -> None:
    """Raise KeyboardInterrupt in `thread`, as Ctrl-C would in a dbt CLI: dbt cancels its open
    queries and returns. It lands when the thread next runs Python code (a node finishing)."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt)
        )


class InProcessDbt(dg.ConfigurableResource):
    """Runs dbt commands for `@dbt_assets` in this process (see the module docstring)."""

    project_dir: str

    def cli(
        self,
        args: Sequence[str],
        *,
        context: dg.AssetExecutionContext,
        env: Mapping[str, str] | None = None,
        sql_env: Mapping[str, str] | None = None,
    ) -> Iterator[DbtDagsterEventType]:
        """Run `dbt <args>` on the context's selection, yielding dagster-dbt's events for each
        node as it finishes; raise `DagsterDbtCliRuntimeError` at the end if dbt failed (a
        failed model, a failed error-severity test), like `DbtCliResource.cli(...).stream()`.

        `env` is set for the parse and the build; `sql_env` for the build only (variables that
        only model SQL reads, see `parsed_manifest`).
        """
        project_dir = Path(self.project_dir).resolve()
        env = dict(env or {})
        manifest = parsed_manifest(project_dir, parse_options(args), env)
        assets_manifest, translator, project = get_manifest_and_translator_from_dbt_assets(
            [context.assets_def]
        )
        # The selection dagster-dbt's CLI resource would pass. In-process there is no argument
        # length limit, so a large subset never needs its temporary selectors.yml project copy.
        selection, indirect_selection = get_subset_selection_for_context(
            context=context,
            manifest=assets_manifest,
            select=context.op.tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
            exclude=context.op.tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY),
            selector=context.op.tags.get(DAGSTER_DBT_SELECTOR_METADATA_KEY),
            dagster_dbt_translator=translator,
            current_dbt_indirect_selection_env=os.getenv(DBT_INDIRECT_SELECTION_ENV),
        )
        # Compiled SQL and dbt.log go to a private dir per build; a failed build keeps it for
        # the error message to point at.
        target_dir = Path(tempfile.mkdtemp(prefix="bandeja-dbt-"))
        command = [
            *args,
            *selection,
            *(["--indirect-selection", indirect_selection] if indirect_selection else []),
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target-path",
            str(target_dir),
            "--log-path",
            str(target_dir),
            # Nothing reads run_results.json or a build's manifest.json: 2 s less per build.
            "--no-write-json",
            # dbt's own console is off: this method echoes dbt's lines to stdout, as
            # dagster-dbt did with the subprocess's output. The debug log (which would follow
            # the console's level) stays, for a failed build's message to point at.
            "--log-level",
            "none",
            "--log-level-file",
            "debug",
        ]
        events: queue.SimpleQueue[Any] = queue.SimpleQueue()

        def on_event(message: Any) -> None:
            # Runs on dbt's threads, for every event (thousands per build, most at debug level).
            if message.info.level in SHOWN_LEVELS or message.info.name in RESULT_EVENTS:
                events.put(message)

        def build() -> None:
            result = None
            try:
                result = invoke_dbt(command, manifest=manifest, callbacks=[on_event])
            finally:
                close_warehouse()
                # The end of the stream: a tuple, where dbt's events are messages.
                events.put(("done", result))

        thread = threading.Thread(target=build, name="dbt-build", daemon=True)
        errors: list[str] = []
        with environ({**env, **(sql_env or {})}):
            thread.start()
            try:
                result = yield from _dagster_events(
                    events, errors, context, assets_manifest, translator, project
                )
            finally:
                # Left early (the run was interrupted, or Dagster stopped reading): the warehouse
                # lock must outlive dbt's writes.
                if thread.is_alive():
                    _interrupt(thread)
                thread.join()
        if result is None or not result.success or errors:
            failure = "\n".join(errors) or repr(getattr(result, "exception", None))
            raise DagsterDbtCliRuntimeError(
                description=f"`dbt {' '.join(args)}` failed; dbt's debug log is "
                f"{target_dir / 'dbt.log'}.\n\nErrors from dbt:\n{failure}"
            )
        shutil.rmtree(target_dir, ignore_errors=True)


def _dagster_events(
    events: "queue.SimpleQueue[Any]",
    errors: list[str],
    context: dg.AssetExecutionContext,
    manifest: Mapping[str, Any],
    translator: DagsterDbtTranslator,
    project: DbtProject | None,
) -> Generator[DbtDagsterEventType, None, Any]:
    """dbt's events off the queue until the build's end, turned into Dagster events by
    dagster-dbt from the dict dbt's JSON log would print for each; returns dbt's result.
    Its console lines go to stdout as the subprocess's did, and its errors into `errors`."""
    from dbt_common.events.functions import env_scrubber, msg_to_dict

    while True:
        message = events.get()
        if isinstance(message, tuple):
            return message[1]
        if message.info.level in SHOWN_LEVELS:
            line = env_scrubber(message.info.msg)
            # Flushed per line, so `dagster dev`'s compute log shows a build as it goes.
            print(line, flush=True)
            if message.info.level == "error" and line.strip():
                errors.append(line)
        if message.info.name in RESULT_EVENTS:
            event = DbtCoreCliEventMessage(
                raw_event=msg_to_dict(message), event_history_metadata={}
            )
            yield from event.to_default_asset_events(
                manifest=manifest,
                dagster_dbt_translator=translator,
                context=context,
                project=project,
            )
