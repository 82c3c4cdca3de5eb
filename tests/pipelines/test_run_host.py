"""Runs launched through the instance's run launcher fork from the warm run host."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import sys
import time
import weakref
from types import SimpleNamespace

import duckdb
import pytest
from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.events import DagsterEventType
from dagster._core.launcher import WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun
from dagster._daemon.monitoring import execute_concurrency_slots_iteration
from dagster._daemon.monitoring.run_monitoring import monitor_started_run
from pipeline_api import REPO
from pipeline_events import sample_events

from pipelines.commands import dagster_home
from pipelines.defs.dbt import DBT_OP_NAME
from pipelines.defs.schedules import PIPELINE_JOB
from pipelines.launcher import WORKER_PID_TAG, WORKER_START_TAG, WarmRunLauncher
from pipelines.run_host import redeliver_swallowed_interrupts

pytestmark = pytest.mark.slow


def _poll(value, done, what: str, timeout: float, interval: float = 0.1):
    """`value()` once `done` holds for it, polled every `interval` s for at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while not done(current := value()):
        assert time.monotonic() < deadline, f"{what} after {timeout} s"
        time.sleep(interval)
    return current


def _wait(instance: DagsterInstance, run_id: str, timeout: float = 600.0):
    return _poll(
        lambda: instance.get_run_by_id(run_id),
        lambda run: run.is_finished,
        f"run {run_id} not finished",
        timeout,
        interval=0.5,
    )


def _wait_started(instance: DagsterInstance, run_id: str, timeout: float = 300.0):
    return _poll(
        lambda: instance.get_run_by_id(run_id),
        lambda run: run.status == DagsterRunStatus.STARTED,
        "the run never started",
        timeout,
    )


def _engine_messages(instance: DagsterInstance, run_id: str) -> list[str]:
    return [
        record.event_log_entry.dagster_event.message or ""
        for record in instance.get_records_for_run(
            run_id, of_type=DagsterEventType.ENGINE_EVENT
        ).records
    ]


def _instance_env(feed_api, data, monkeypatch, **overrides: str) -> None:
    """The instance `bandeja pipeline ui` configures, and the environment its daemon passes on."""
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home(data)))
    env = {
        "BANDEJA_ENV": "test",
        "BANDEJA_DATA_DIR": str(data),
        "BANDEJA_CONFIG_FILE": str(REPO / "config" / "bandeja.yaml"),
        "BANDEJA_API_URL": feed_api.url,
        "BANDEJA_FEED_TOKEN": feed_api.feed_token,
    }
    for name, value in {**env, **overrides}.items():
        monkeypatch.setenv(name, value)


def _create_run(instance: DagsterInstance, as_of: str | None = None):
    repository = ReconstructableRepository.for_module(
        "pipelines.definitions", "defs", working_directory=str(REPO)
    )
    job = repository.get_reconstructable_job(PIPELINE_JOB)
    config = {"ops": {DBT_OP_NAME: {"config": {"as_of": as_of}}}} if as_of else {}
    return instance.create_run_for_job(
        job_def=job.get_definition(), run_config=config, job_code_origin=job.get_python_origin()
    )


def test_runs_fork_from_one_warm_host_and_finish_as_dagster_runs(
    feed_api, tmp_path, monkeypatch, capfd
):
    events = sample_events()
    feed_api.import_events(events)
    data = tmp_path / "data"
    _instance_env(feed_api, data, monkeypatch)
    last_event = dt.datetime.fromisoformat(events[-1]["occurred_at"])

    with DagsterInstance.get() as instance:
        runs = []
        for days in (1, 2):
            run = _create_run(instance, (last_event + dt.timedelta(days=days)).isoformat())
            instance.launch_run(run.run_id, workspace=None)
            runs.append(_wait(instance, run.run_id))
        host = instance.run_launcher._host_process

        for run in runs:
            assert run.status == DagsterRunStatus.SUCCESS, _engine_messages(instance, run.run_id)
            worker = int(run.tags[WORKER_PID_TAG])
            assert worker not in (os.getpid(), host.pid)
            messages = _engine_messages(instance, run.run_id)
            assert any("forked from the warm run host" in message for message in messages)
            assert any(f"Started process for run (pid: {worker})" in m for m in messages)
        # one host served both runs, and it is still there for the next one
        assert host.poll() is None
        # the host's output goes where the daemon's goes (here, this process's)
        assert capfd.readouterr().out.count(" ready on ") == 1
        with duckdb.connect(str(data / "serving" / "analytics.duckdb"), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM fct_cycles").fetchall()[0][0] > 0

    # Disposing of the instance (the daemon stopping) stops the host.
    assert host.wait(timeout=30) is not None


def test_terminating_a_forked_run_cancels_it(feed_api, tmp_path, monkeypatch):
    feed_api.import_events(sample_events())
    _instance_env(feed_api, tmp_path / "data", monkeypatch)

    with DagsterInstance.get() as instance:
        run = _create_run(instance)
        instance.launch_run(run.run_id, workspace=None)
        _wait_started(instance, run.run_id)

        assert instance.run_launcher.terminate(run.run_id)

        assert _wait(instance, run.run_id).status == DagsterRunStatus.CANCELED


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_interrupt_discarded_in_a_gc_callback_arrives_again(monkeypatch):
    # Dagster raises SIGINT as an exception from its signal handler, wherever the main thread
    # is; inside a weakref (garbage-collection) callback Python discards it, and the run it was
    # to cancel went on (once in CI). A forked worker's hook sends SIGINT again.
    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)
    redeliver_swallowed_interrupts()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)

    class Collected:
        pass

    def interrupted_callback(_ref: weakref.ref) -> None:
        raise KeyboardInterrupt  # as Dagster's handler raises it, here inside the callback

    try:
        collected = Collected()
        ref = weakref.ref(collected, interrupted_callback)
        with pytest.raises(KeyboardInterrupt):
            del collected  # the callback runs now; its exception is discarded
            time.sleep(5)  # the signal sent again interrupts the sleep
        assert ref() is None
    finally:
        signal.signal(signal.SIGINT, previous)


def test_run_monitoring_fails_a_forked_run_whose_worker_was_killed(feed_api, tmp_path, monkeypatch):
    # A worker killed mid-run (out of memory, a restart) cannot end its run; left STARTED, it
    # would hold the warehouse's one run slot and every later run would stay queued.
    feed_api.import_events(sample_events())
    _instance_env(feed_api, tmp_path / "data", monkeypatch)

    with DagsterInstance.get() as instance:
        assert instance.run_monitoring_enabled
        run = _create_run(instance)
        instance.launch_run(run.run_id, workspace=None)
        started = _wait_started(instance, run.run_id)
        # killed inside a step that holds the warehouse writers' pool slot
        _poll(
            instance.event_log_storage.get_concurrency_run_ids,
            lambda holders: run.run_id in holders,
            "the run's steps never claimed a pool slot",
            300,
            interval=0.05,
        )
        launcher = instance.run_launcher
        assert started.tags[WORKER_START_TAG].isdigit()
        assert launcher.check_run_worker_health(started).status == WorkerStatus.RUNNING

        worker = int(started.tags[WORKER_PID_TAG])
        os.kill(worker, signal.SIGKILL)
        _poll(
            lambda: launcher.check_run_worker_health(started).status,
            lambda status: status == WorkerStatus.FAILED,
            "the killed worker still looks alive",
            30,
        )
        # What the monitoring daemon does with each STARTED run on every poll.
        (record,) = instance.get_run_records()
        monitor_started_run(instance, None, record, logging.getLogger("run_monitoring"))

        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
        failure = instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.RUN_FAILURE
        ).records
        assert f"worker process {worker} is gone" in failure[0].event_log_entry.message
        # The dead worker's pool slot is freed once the run has been over for the configured
        # seconds (the same daemon, same poll); until then the next run's writer steps would wait.
        assert run.run_id in instance.event_log_storage.get_concurrency_run_ids()
        time.sleep(instance.run_monitoring_settings["free_slots_after_run_end_seconds"] + 1)
        context = SimpleNamespace(instance=instance)
        list(execute_concurrency_slots_iteration(context, logging.getLogger("run_monitoring")))
        assert run.run_id not in instance.event_log_storage.get_concurrency_run_ids()


def test_a_worker_pid_that_is_another_process_now_is_a_dead_worker():
    launcher = WarmRunLauncher()
    me = str(os.getpid())
    runs = {
        "ours": {WORKER_PID_TAG: me},
        "reused": {WORKER_PID_TAG: me, WORKER_START_TAG: "1"},
        "default launch": {},
    }
    status = {
        name: launcher.check_run_worker_health(DagsterRun(job_name="j", tags=tags)).status
        for name, tags in runs.items()
    }

    assert status == {
        "ours": WorkerStatus.RUNNING,
        "reused": WorkerStatus.FAILED,
        "default launch": WorkerStatus.RUNNING,
    }


def test_a_host_that_cannot_start_hands_the_run_to_the_default_launcher(
    feed_api, tmp_path, monkeypatch
):
    # The host loads the settings when it warms up; a missing business file stops it.
    _instance_env(
        feed_api, tmp_path / "data", monkeypatch, BANDEJA_CONFIG_FILE=str(tmp_path / "none.yaml")
    )

    with DagsterInstance.get() as instance:
        run = _create_run(instance)
        # Without a workspace the default launcher cannot start it either; under the daemon it
        # goes to the code server.
        with pytest.raises(Exception, match="requires a workspace"):
            instance.launch_run(run.run_id, workspace=None)

        messages = _engine_messages(instance, run.run_id)
        assert any(
            "Run host unavailable (the run host exited with 1 while starting" in message
            for message in messages
        ), messages
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE


def test_a_deep_dagster_home_gets_its_socket_in_the_temp_dir(tmp_path):
    deep = tmp_path.joinpath(*["nested-directory"] * 8)
    deep.mkdir(parents=True)
    overrides = {"run_launcher": {"module": "pipelines.launcher", "class": "WarmRunLauncher"}}
    with DagsterInstance.local_temp(tempdir=str(deep), overrides=overrides) as instance:
        path = instance.run_launcher.socket_path

    assert len(str(path)) < 100 and path.name.startswith("bandeja-run-host-")
