"""`python -m bench.pipeline_bench`: the metrics pipeline on the simulator's bulk data set.

In one run, side by side, each with wall time and peak memory (RSS of the process tree, DuckDB
included):

- full: the whole pipeline (feed pull over HTTP + calendar, dbt build, publish) on an empty
  warehouse, with a per-step breakdown;
- floor: one hand-written DuckDB query (`bench/floor.sql`) computing FRT and SLA status per cycle
  from the same raw events in the warehouse;
- incremental: the pipeline again after one more day of events was appended to the inbox;
- idle: the pipeline once more with nothing new (same as_of): a run's fixed cost;
- scheduled: the same day (then nothing new) twice more from the same starting state, as
  Dagster's schedule runs it, in the instance `bandeja pipeline ui` configures, timed from launch
  to the run's recorded end: each run in a fresh interpreter (Dagster's default launcher), then
  each run forked from the warm run host (`pipelines/run_host.py`, the launcher we configure).

With `--ingest preload` the base events are written as landing files before the full run (its
pull then finds only the API's own start-up events) and the feed's HTTP rate is measured with
probes at three cursors instead; the incremental run always pulls its day over HTTP.

The inbox fixture is built without the HTTP import (25 M events at ~5 k/s would take hours): the
simulator's Parquet is loaded straight into the API's `events` table (its own schema, seq numbers
in time order); the state tables (conversations, message state) are not rebuilt, because the
pipeline reads nothing but the feed. The real API then serves the feed over HTTP. Each timed step
runs in a fresh child process so one step's memory does not count against the next.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from bench.cpu import cores_busy, cpu_jiffies
from bench.memory import PeakSampler
from bench.server import ADMIN_TOKEN, Server
from ingest.feed import EVENT_COLUMNS, MAX_PAGE_SIZE, PARQUET_MEDIA_TYPE

FLOOR_SQL = Path(__file__).with_name("floor.sql")
# The simulator's clock stops here; the last local day (Mexico City) is the "one more day".
DATASET_END = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
DAY_CUTOFF = DATASET_END - dt.timedelta(days=1)
SEED = 7
TELEMETRY_OFF = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
}
# Dagster's console log: '... - <step> - STEP_SUCCESS - Finished execution of step "<step>" in 2s.'
_STEP_SUCCESS = re.compile(r" - (\S+) - STEP_SUCCESS - Finished execution of step \S+ in (.+)\.$")
_DURATION_PART = re.compile(r"([\d.]+)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
# dbt's console line for a finished node, echoed by dagster-dbt:
# '12 of 142 OK created sql incremental model main.fct_messages .... [OK in 9.71s]'
# '40 of 142 PASS not_null_fct_cycles_cycle_id ....................... [PASS in 0.52s]'
_DBT_NODE_DONE = re.compile(
    r"(?:^|\s)\d+ of \d+ (?:OK created \S+ (?P<kind>\S+) model (?P<model>\S+)|"
    r"(?P<status>PASS|WARN|FAIL|ERROR)(?: \d+)? (?P<test>\S+)) \.* ?\[.*? in (?P<seconds>[\d.]+)s\]"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def write_dataset(parquet_dir: Path, messages: int) -> dict[str, Any]:
    """The simulator's bulk Parquet for `messages` (reused when already written)."""
    from ingest.simulator.bulk import write_bulk

    marker = parquet_dir / "stats.json"
    if marker.exists():
        return json.loads(marker.read_text())
    shutil.rmtree(parquet_dir, ignore_errors=True)
    stats = write_bulk(parquet_dir, messages, SEED, end=DATASET_END)
    info = {
        "messages": stats.messages,
        "cycles": stats.cycles,
        "events": stats.events,
        "seconds": round(stats.seconds, 1),
    }
    marker.write_text(json.dumps(info))
    return info


def load_events(inbox_db: Path, parquet_dir: Path, start: dt.datetime, end: dt.datetime) -> int:
    """Append the simulator's events with `start <= occurred_at < end` to the inbox's `events`
    table, numbered after the last seq in (occurred_at, event_id) order. The API must not be
    running: DuckDB allows one writer per file."""
    from inbox_api.store.schema import migrate

    with duckdb.connect(str(inbox_db)) as con:
        migrate(con)
        con.execute(
            """
            insert into events
            select
                (select coalesce(max(seq), 0) from events)
                    + row_number() over (order by occurred_at, event_id) as seq,
                event_id, event_type, occurred_at, now() as recorded_at, inbox_id,
                conversation_id, contact_id, actor_kind, actor_id, payload
            from read_parquet($glob)
            where occurred_at >= $start and occurred_at < $end
            """,
            {"glob": str(parquet_dir / "events-*.parquet"), "start": start, "end": end},
        )
        return int(con.execute("select count(*) from events").fetchall()[0][0])


def preload_landing(data_dir: Path, inbox_db: Path) -> int:
    """Write the inbox's events as landing files, a full feed page each (what a pull from empty
    lands, same columns and seq), so the pipeline's pull resumes after them. Returns the count."""
    from ingest.landing import COMPRESSION, LandingZone, landing_dir

    columns = ", ".join(EVENT_COLUMNS)
    with LandingZone(landing_dir(data_dir)) as zone, duckdb.connect() as con:
        con.execute("ATTACH $1 AS inbox (READ_ONLY)", [str(inbox_db)])
        last, count = con.execute("SELECT max(seq), count(*) FROM inbox.events").fetchall()[0]
        for after in range(zone.cursor, last or 0, MAX_PAGE_SIZE):
            upper = min(after + MAX_PAGE_SIZE, last)
            temp = zone.temp_path()
            con.sql(
                f"SELECT {columns} FROM inbox.events WHERE seq > $1 AND seq <= $2 ORDER BY seq",
                params=[after, upper],
            ).write_parquet(str(temp), compression=COMPRESSION)
            zone.land(temp, after + 1, upper)
        return int(count)


def probe_feed(url: str, total: int, pages: int = 3) -> list[dict[str, Any]]:
    """Seconds per full Parquet page (MAX_PAGE_SIZE events) of the real feed at a few cursors
    (start, middle, near the end), one request at a time: the HTTP rate of the feed alone."""
    import httpx

    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Accept": PARQUET_MEDIA_TYPE}
    probes = []
    with httpx.Client(base_url=url, timeout=600.0) as client:
        for after in (0, total // 2, max(0, total - pages * MAX_PAGE_SIZE)):
            started = time.monotonic()
            cursor = after
            for _ in range(pages):
                response = client.get(
                    "/v1/feed/events",
                    params={"after": cursor, "limit": MAX_PAGE_SIZE},
                    headers=headers,
                )
                response.raise_for_status()
                cursor = int(response.headers["X-Next-After"])
            seconds = (time.monotonic() - started) / pages
            probes.append(
                {
                    "after": after,
                    "seconds_per_page": round(seconds, 2),
                    "events_per_second": round(MAX_PAGE_SIZE / seconds),
                }
            )
    return probes


def _child_env(data_dir: Path, api_url: str) -> dict[str, str]:
    return {
        **os.environ,
        **TELEMETRY_OFF,
        "BANDEJA_ENV": "test",
        "BANDEJA_DATA_DIR": str(data_dir),
        "BANDEJA_API_URL": api_url,
        "BANDEJA_FEED_TOKEN": ADMIN_TOKEN,
    }


def timed_child(args: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run `python -m bench.pipeline_bench --child ...` with its output in `log`; its JSON result
    with the process's wall time, peak RSS (the whole tree: dbt runs in a subprocess) and the
    machine's busy cores meanwhile (bench/cpu.py)."""
    result_file = log.with_suffix(".json")
    result_file.unlink(missing_ok=True)
    cpu_before = cpu_jiffies()
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.pipeline_bench",
                "--child",
                *args,
                "--result",
                str(result_file),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        with PeakSampler(process.pid) as sampler:
            process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"child {args} failed ({process.returncode}); see {log}")
    result = json.loads(result_file.read_text())
    result["process_seconds"] = round(time.monotonic() - started, 2)
    result["peak_rss_mib"] = round(sampler.peak_mib)
    result["cores_busy"] = cores_busy(cpu_before, cpu_jiffies())
    return result


def step_seconds(log_text: str) -> dict[str, float]:
    """Seconds per Dagster step, from the console log's STEP_SUCCESS lines."""
    seconds: dict[str, float] = {}
    for line in log_text.splitlines():
        match = _STEP_SUCCESS.search(line)
        if match:
            parts = _DURATION_PART.findall(match.group(2))
            seconds[match.group(1)] = round(
                sum(float(value) * _UNIT_SECONDS[unit] for value, unit in parts), 2
            )
    return seconds


def dbt_node_seconds(log_text: str) -> dict[str, float]:
    """Seconds per dbt node (models as `schema.name`, tests by name), from dbt's console lines."""
    seconds: dict[str, float] = {}
    for line in log_text.splitlines():
        match = _DBT_NODE_DONE.search(_ANSI.sub("", line))
        if match:
            node = match.group("model") or f"test {match.group('test')}"
            seconds[node] = float(match.group("seconds"))
    return seconds


def node_summary(nodes: dict[str, float], top: int = 12) -> dict[str, Any]:
    """The slowest dbt nodes, and the totals for models and tests (node times overlap: dbt runs
    two threads, so the totals can exceed the step's wall time)."""
    tests = {name: value for name, value in nodes.items() if name.startswith("test ")}
    models = {name: value for name, value in nodes.items() if name not in tests}
    slowest = sorted(nodes.items(), key=lambda item: item[1], reverse=True)[:top]
    return {
        "models": len(models),
        "model_seconds": round(sum(models.values()), 1),
        "tests": len(tests),
        "test_seconds": round(sum(tests.values()), 1),
        "slowest": dict(slowest),
    }


def child_pipeline(as_of: str) -> dict[str, Any]:
    """One pipeline run in this process (the production entry point), Dagster's log verbose so
    the parent can read each step's times.

    The run is timed as the floor query is, without its process start: the definitions are
    loaded first (Dagster's and dbt's imports, and a dbt parse where the project changed since
    the last one: the first run of a fresh clone), and that load is reported on its own.
    """
    started = time.monotonic()
    import pipelines.definitions  # noqa: F401
    from inbox_api.settings import Settings
    from pipelines.runner import run_pipeline

    load_seconds = time.monotonic() - started
    started = time.monotonic()
    summary = run_pipeline(Settings(), dt.datetime.fromisoformat(as_of), verbose=True)
    return {
        "seconds": round(time.monotonic() - started, 2),
        "load_seconds": round(load_seconds, 2),
        "events_pulled": summary.events_pulled,
        "models_built": summary.models_built,
        "tests_failed": summary.tests_failed,
        "checks_failed": summary.checks_failed,
    }


def child_scheduled(launches: list[str]) -> dict[str, Any]:
    """Pipeline runs as the Dagster daemon launches them, in the instance `bandeja pipeline ui`
    configures, each given as `<how>:<as_of>` and timed from its launch until the instance
    records its end. `host`: handed to the instance's run launcher (`WarmRunLauncher`: forked
    from the warm run host, which this process starts on the first such launch). `fresh`: in a
    new interpreter, `dagster api execute_run`, as Dagster's default launcher starts a run."""
    from dagster import DagsterInstance
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.events import DagsterEvent, DagsterEventType
    from dagster._grpc.types import ExecuteRunArgs
    from dagster._serdes import serialize_value

    from inbox_api.settings import Settings
    from pipelines.commands import dagster_home
    from pipelines.defs.dbt import DBT_OP_NAME
    from pipelines.defs.schedules import PIPELINE_JOB

    home = dagster_home(Settings().data_dir)
    os.environ["DAGSTER_HOME"] = str(home)
    repository = ReconstructableRepository.for_module(
        "pipelines.definitions", "defs", working_directory=os.getcwd()
    )
    job = repository.get_reconstructable_job(PIPELINE_JOB)
    runs = []
    with DagsterInstance.get() as instance:
        if any(launch.startswith("host:") for launch in launches):
            # The host's start (imports, the dbt parse), timed apart: it happens once, when the
            # daemon launches its first run.
            started = time.monotonic()
            instance.run_launcher._ensure_host()
            runs.append({"how": "host start", "seconds": round(time.monotonic() - started, 2)})
        for launch in launches:
            how, as_of = launch.split(":", 1)
            run = instance.create_run_for_job(
                job_def=job.get_definition(),
                run_config={"ops": {DBT_OP_NAME: {"config": {"as_of": as_of}}}},
                job_code_origin=job.get_python_origin(),
            )
            print(f"== scheduled run {run.run_id} {how} as_of {as_of}", flush=True)
            cpu_before = cpu_jiffies()
            started = time.monotonic()
            if how == "host":
                instance.launch_run(run.run_id, workspace=None)
            else:
                instance.report_dagster_event(
                    DagsterEvent(
                        event_type_value=DagsterEventType.PIPELINE_STARTING.value,
                        job_name=run.job_name,
                    ),
                    run_id=run.run_id,
                )
                worker = ExecuteRunArgs(
                    job_origin=job.get_python_origin(),
                    run_id=run.run_id,
                    instance_ref=instance.get_ref(),
                    set_exit_code_on_failure=True,
                )
                command = [sys.executable, "-m", "dagster", "api", "execute_run"]
                subprocess.run([*command, serialize_value(worker)], check=False)
            record = _wait_for_run_end(instance, run.run_id, home)
            if record.status.value != "SUCCESS":
                raise RuntimeError(f"scheduled run {run.run_id} ended {record.status.value}")
            runs.append(
                {
                    "how": how,
                    "as_of": as_of,
                    "seconds": round(time.monotonic() - started, 2),
                    "cores_busy": cores_busy(cpu_before, cpu_jiffies()),
                }
            )
            print(f"== scheduled run {run.run_id} done", flush=True)
    return {"runs": runs}


def _storage_stamp(dagster_home: Path) -> tuple[tuple[int, int], ...]:
    """(mtime, size) of the run storage's SQLite files: a run's status change writes them."""
    stamps = []
    for name in ("runs.db", "runs.db-wal"):
        with contextlib.suppress(FileNotFoundError):
            stat = (dagster_home / "history" / name).stat()
            stamps.append((stat.st_mtime_ns, stat.st_size))
    return tuple(stamps)


def _wait_for_run_end(instance: Any, run_id: str, dagster_home: Path) -> Any:
    """The run's record once it is finished. The run storage is read only when its files
    changed (and at least every second): a query every 50 ms, each on a new SQLite engine, took
    4.5 s of CPU from the two cores a 14 s run was measured on (py-spy)."""
    stamp, asked = None, 0.0
    while True:
        now_stamp = _storage_stamp(dagster_home)
        if now_stamp != stamp or time.monotonic() - asked >= 1.0:
            stamp, asked = now_stamp, time.monotonic()
            record = instance.get_run_by_id(run_id)
            if record.is_finished:
                return record
        time.sleep(0.02)


def child_floor(warehouse_db: str, as_of: str) -> dict[str, Any]:
    """The floor query, materialised in a temp table, with its SLA status counts."""
    sql = FLOOR_SQL.read_text()
    started = time.monotonic()
    with duckdb.connect(warehouse_db, read_only=True) as con:
        con.execute(
            f"create temp table floor_cycles as {sql}", {"as_of": dt.datetime.fromisoformat(as_of)}
        )
        seconds = time.monotonic() - started
        counts = dict(
            con.execute("select sla_status, count(*) from floor_cycles group by 1").fetchall()
        )
        frt = con.execute(
            "select median(frt_seconds), median(frt_business_seconds) from floor_cycles"
        ).fetchall()[0]
    return {
        "seconds": round(seconds, 2),
        "cycles": sum(counts.values()),
        "sla_status": counts,
        "frt_median": frt[0],
        "frt_business_median": frt[1],
    }


def serving_counts(serving_db: Path) -> dict[str, Any]:
    with duckdb.connect(str(serving_db), read_only=True) as con:
        counts = dict(
            con.execute("select sla_status, count(*) from fct_cycles group by 1").fetchall()
        )
        frt = con.execute(
            "select median(frt_seconds), median(frt_business_seconds) from fct_cycles"
        ).fetchall()[0]
    return {
        "cycles": sum(counts.values()),
        "sla_status": counts,
        "frt_median": frt[0],
        "frt_business_median": frt[1],
    }


def wait_for_quiet_machine(poll: float = 5.0) -> None:
    """Another benchmark (webhook load generator) shares these 2 cores: wait until it is done."""
    while subprocess.run(["pgrep", "-f", "bench.loadgen"], capture_output=True).returncode == 0:
        print("waiting for bench.loadgen to finish ...", file=sys.stderr)
        time.sleep(poll)


def run(work: Path, messages: int, keep: bool, ingest: str) -> dict[str, Any]:
    parquet_dir = work / f"parquet-{messages}"
    data_dir = work / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    inbox_db = data_dir / "inbox.duckdb"
    report: dict[str, Any] = {"dataset": write_dataset(parquet_dir, messages)}
    started = time.monotonic()
    report["inbox_events_base"] = load_events(
        inbox_db, parquet_dir, dt.datetime(1970, 1, 1, tzinfo=dt.UTC), DAY_CUTOFF
    )
    report["fixture_seconds"] = round(time.monotonic() - started, 1)
    report["ingest_mode"] = ingest
    if ingest == "preload":
        started = time.monotonic()
        report["preloaded_events"] = preload_landing(data_dir, inbox_db)
        report["preload_seconds"] = round(time.monotonic() - started, 1)
    as_of_base = DAY_CUTOFF.isoformat()
    as_of_next = DATASET_END.isoformat()
    server = Server(data_dir).start(timeout=300)
    try:
        env = _child_env(data_dir, server.url)
        wait_for_quiet_machine()
        log = work / "full.log"
        report["full"] = timed_child(["pipeline", "--as-of", as_of_base], env, log)
        report["full"]["steps"] = step_seconds(log.read_text())
        report["full"]["dbt_nodes"] = dbt_node_seconds(log.read_text())
        wait_for_quiet_machine()
        report["floor"] = timed_child(
            ["floor", "--warehouse", str(data_dir / "warehouse.duckdb"), "--as-of", as_of_base],
            env,
            work / "floor.log",
        )
        report["pipeline_counts"] = serving_counts(data_dir / "serving" / "analytics.duckdb")
        wait_for_quiet_machine()
        report["feed_probe"] = probe_feed(server.url, report["inbox_events_base"])
    finally:
        server.stop()
    report["inbox_events_next_day"] = load_events(inbox_db, parquet_dir, DAY_CUTOFF, DATASET_END)
    # The pipeline's state before the day: the scheduled runs below start from it again.
    before_day = work / "before-day"
    _copy_pipeline_state(data_dir, before_day)
    server = Server(data_dir).start(timeout=300)
    try:
        env = _child_env(data_dir, server.url)
        wait_for_quiet_machine()
        log = work / "incremental.log"
        report["incremental"] = timed_child(["pipeline", "--as-of", as_of_next], env, log)
        report["incremental"]["steps"] = step_seconds(log.read_text())
        report["incremental"]["dbt_nodes"] = dbt_node_seconds(log.read_text())
        # The fixed cost of a run: the same as_of again, no new event to pull.
        wait_for_quiet_machine()
        log = work / "idle.log"
        report["idle"] = timed_child(["pipeline", "--as-of", as_of_next], env, log)
        report["idle"]["steps"] = step_seconds(log.read_text())
        report["idle"]["dbt_nodes"] = dbt_node_seconds(log.read_text())
        # The same day again, twice from the same starting state, as Dagster's schedule runs
        # it: each run in a fresh interpreter (Dagster's default launcher), then each run forked
        # from the warm run host (`bandeja pipeline ui`'s launcher), started before the runs.
        for how, launches in (
            ("fresh", [f"fresh:{as_of_next}", f"fresh:{as_of_next}"]),
            ("host", [f"host:{as_of_next}", f"host:{as_of_next}"]),
        ):
            _copy_pipeline_state(before_day, data_dir)
            wait_for_quiet_machine()
            log = work / f"scheduled-{how}.log"
            result = timed_child(["scheduled", "--as-of", ",".join(launches)], env, log)
            report[f"scheduled_{how}"] = _scheduled_runs(result, log.read_text())
    finally:
        server.stop()
        if not keep:
            shutil.rmtree(before_day, ignore_errors=True)
    report["serving_db"] = str(data_dir / "serving" / "analytics.duckdb")
    if keep:
        report["before_day"] = str(before_day)
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    return report


def repeat_day(work: Path, runs: int) -> dict[str, Any]:
    """`runs` forked day runs, each from a fresh copy of the kept pre-day state (a bench run
    with `--keep` leaves it in `WORK/before-day`, and the inbox with the day in `WORK/data`):
    the spread of the incremental figure, which one bench run measures once. Each run is
    a new run host's first, as in the bench."""
    before_day, data_dir = work / "before-day", work / "data"
    if not (before_day / "warehouse.duckdb").exists() or not (data_dir / "inbox.duckdb").exists():
        raise SystemExit(f"{work}: no kept bench state; run the bench with --keep first")
    server = Server(data_dir).start(timeout=300)
    day_runs = []
    try:
        env = _child_env(work / "repeat", server.url)
        launch = f"host:{DATASET_END.isoformat()}"
        for number in range(runs):
            _copy_pipeline_state(before_day, work / "repeat")
            wait_for_quiet_machine()
            log = work / f"repeat-{number}.log"
            result = timed_child(["scheduled", "--as-of", launch], env, log)
            runs_logged = _scheduled_runs(result, log.read_text())["runs"]
            (run,) = [logged for logged in runs_logged if logged["how"] == "host"]
            day_runs.append(run)
            print(f"  day run {number + 1}: {_run_line(run)}", flush=True)
    finally:
        server.stop()
        shutil.rmtree(work / "repeat", ignore_errors=True)
    seconds = sorted(run["seconds"] for run in day_runs)
    print(
        f"{runs} forked day runs: median {statistics.median(seconds):.1f} s, "
        f"min {seconds[0]:.1f} s, max {seconds[-1]:.1f} s"
    )
    return {"day_runs": day_runs}


PIPELINE_STATE = ("warehouse.duckdb", "serving", "landing")


def _copy_pipeline_state(source: Path, target: Path) -> None:
    """The pipeline's files (warehouse, serving snapshot, landed feed) from `source` into
    `target`, replacing what `target` had; the inbox is not the pipeline's.

    The serving files are hard links: the next run reuses a snapshot only if it is the very
    file (inode, size, mtime) its publish manifest names, and runs never write a published
    snapshot (publish renames a new file over it), so a link stays what was published."""
    target.mkdir(parents=True, exist_ok=True)
    for name in PIPELINE_STATE:
        destination = target / name
        if destination.is_dir():
            shutil.rmtree(destination)
        else:
            destination.unlink(missing_ok=True)
        copy = os.link if name == "serving" else shutil.copy2
        if (source / name).is_dir():
            shutil.copytree(source / name, destination, copy_function=copy)
        elif (source / name).exists():
            shutil.copy2(source / name, destination)
    shutil.rmtree(target / ".dagster_home", ignore_errors=True)
    # The copies are dirty page cache until the kernel writes them back (~2 GB here). A timed
    # run would pay for that in its first fsync, a cost no run has in production, where nothing
    # copies the warehouse before a run: 3 s of the ingest step's close, measured.
    os.sync()


def _scheduled_runs(result: dict[str, Any], log_text: str) -> dict[str, Any]:
    """The scheduled child's runs, each with its steps and dbt nodes from the log."""
    sections = re.split(r"^== scheduled run \S+ \w+ as_of \S+$", log_text, flags=re.MULTILINE)[1:]
    started = [run for run in result["runs"] if run["how"] == "host start"]
    runs = started + [
        {**run, "steps": step_seconds(section), "dbt_nodes": dbt_node_seconds(section)}
        for run, section in zip(result["runs"][len(started) :], sections, strict=True)
    ]
    return {
        "runs": runs,
        "process_seconds": result["process_seconds"],
        "peak_rss_mib": result["peak_rss_mib"],
    }


def summary_lines(report: dict[str, Any]) -> list[str]:
    full, floor, inc, idle = (
        report["full"],
        report["floor"],
        report["incremental"],
        report["idle"],
    )
    dbt_publish = sum(
        seconds
        for step, seconds in full["steps"].items()
        if step not in ("raw_inbox_events", "raw_inbox_events_feed_matches_warehouse")
    )
    ingest = full["steps"].get("raw_inbox_events", 0.0)
    ratio = full["seconds"] / floor["seconds"]
    overhead = {
        label: round(run["seconds"] - sum(run["steps"].values()), 1)
        for label, run in (("full", full), ("incremental", inc), ("idle", idle))
    }
    return [
        f"data set: {report['dataset']}",
        f"floor:        {floor['seconds']:8.1f} s  peak {floor['peak_rss_mib']:6} MiB"
        f"{_busy(floor)}",
        f"full:         {full['seconds']:8.1f} s  peak {full['peak_rss_mib']:6} MiB"
        f"{_busy(full)}  ({ratio:.1f}x floor; steps {full['steps']})",
        f"  before it, loading the definitions: {full['load_seconds']} s "
        f"(imports, and the dbt parse of a fresh clone: "
        f"{(full['seconds'] + full['load_seconds']) / floor['seconds']:.1f}x floor with it)",
        f"  without ingest: {full['seconds'] - ingest:8.1f} s "
        f"({(full['seconds'] - ingest) / floor['seconds']:.1f}x floor; "
        f"steps after ingest sum {dbt_publish:.0f} s)",
        f"incremental:  {inc['seconds']:8.1f} s  peak {inc['peak_rss_mib']:6} MiB"
        f"{_busy(inc)}  (steps {inc['steps']})",
        f"idle (no new event): {idle['seconds']:8.1f} s  peak {idle['peak_rss_mib']:6} MiB"
        f"{_busy(idle)}  (steps {idle['steps']})",
        f"Dagster overhead (run wall time - step times): {overhead}",
        *_scheduled_lines(report),
        *_node_lines("full", full),
        *_node_lines("incremental", inc),
        *_node_lines("idle", idle),
        f"ingest: {report['ingest_mode']}; preload {report.get('preload_seconds')} s for "
        f"{report.get('preloaded_events')} events; feed probe {report['feed_probe']}",
        f"floor counts:    {floor['sla_status']}",
        f"pipeline counts: {report['pipeline_counts']['sla_status']}",
    ]


def _scheduled_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    labels = {
        "fresh": ("incremental", "idle"),
        "host": ("host start (once)", "incremental", "idle"),
    }
    for how, title in (
        ("fresh", "scheduled, each run a fresh interpreter (Dagster's default launcher)"),
        ("host", "scheduled, each run forked from the warm run host"),
    ):
        scheduled = report.get(f"scheduled_{how}")
        if not scheduled:
            continue
        lines.append(
            f"{title}: peak {scheduled['peak_rss_mib']} MiB (RSS summed over the processes)"
        )
        for label, run in zip(labels[how], scheduled["runs"], strict=True):
            lines.append(f"  {label}: {_run_line(run)}")
    return lines


def _run_line(run: dict[str, Any]) -> str:
    """A timed run: its seconds, the busy cores, its steps' seconds."""
    return f"{run['seconds']:8.1f} s{_busy(run)}  (steps {run.get('steps', {})})"


def _busy(run: dict[str, Any]) -> str:
    busy = run.get("cores_busy")
    return "" if busy is None else f"  {busy:.2f} of {os.cpu_count()} cores busy"


def _node_lines(label: str, run: dict[str, Any]) -> list[str]:
    nodes = run.get("dbt_nodes")
    if not nodes:
        return []
    summary = node_summary(nodes)
    slowest = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in summary["slowest"].items())
    return [
        f"{label} dbt nodes: {summary['models']} models {summary['model_seconds']} s, "
        f"{summary['tests']} tests {summary['test_seconds']} s (thread time); slowest: {slowest}"
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bandeja-pipeline-bench"))
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the warehouse and serving DB, and the pipeline's state before the extra day "
        "(`WORK/before-day`: A/B runs of the day start from a copy of it)",
    )
    parser.add_argument(
        "--ingest",
        choices=["http", "preload"],
        default="http",
        help="http: the full run pulls every event over the feed, as production does; preload: "
        "write the base events as landing files first (the full run then times dbt and publish "
        "alone); the feed is also timed with probes either way, and the incremental run always "
        "pulls over HTTP",
    )
    parser.add_argument(
        "--day-runs",
        type=int,
        metavar="N",
        help="only repeat the incremental run, forked from the run host, N times, each from a "
        "copy of the state a bench run with --keep left in --work",
    )
    parser.add_argument(
        "--child", choices=["pipeline", "floor", "scheduled"], help=argparse.SUPPRESS
    )
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        if args.child == "pipeline":
            result = child_pipeline(args.as_of)
        elif args.child == "scheduled":
            result = child_scheduled(args.as_of.split(","))
        else:
            result = child_floor(args.warehouse, args.as_of)
        args.result.write_text(json.dumps(result, default=str))
        return 0
    if args.day_runs is not None:
        if args.day_runs < 1:
            parser.error("--day-runs must be at least 1")
        report = repeat_day(args.work, args.day_runs)
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, default=str))
        return 0
    if args.messages < 1000:
        parser.error("--messages must be at least 1000")
    report = run(args.work, args.messages, args.keep, args.ingest)
    for line in summary_lines(report):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
