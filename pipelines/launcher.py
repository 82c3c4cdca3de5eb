"""The run launcher of `bandeja pipeline ui`: runs fork from a warm host (`pipelines.run_host`).

Dagster's `DefaultRunLauncher` asks the code server to start each run in a fresh interpreter.
`WarmRunLauncher` sends the run to the run host instead, which forks a worker that already has
Dagster, dbt and the parsed project loaded; the run's status, logs and events are the same.
When the host cannot take the run (it fails to start, or its code is stale), the run goes the
default way, so a run is never lost to the host; the engine event says which way it went.

A forked run whose worker dies without ending it (killed, out of memory, the machine restarted)
would stay STARTED, and hold the warehouse's one run slot, for good: every later run would wait
in the queue. `check_run_worker_health` tells Dagster's run monitoring (on in `DAGSTER_YAML`)
that such a worker is gone, and the monitoring daemon fails the run.

Configured in the instance's `dagster.yaml` (`pipelines.commands.DAGSTER_YAML`):

    run_launcher:
      module: pipelines.launcher
      class: WarmRunLauncher
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from dagster import DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun
from dagster._serdes import serialize_value

# Run tag: the pid of the forked worker (what `terminate` signals).
WORKER_PID_TAG = "bandeja/run_host_pid"
# Run tag: the worker's start time (clock ticks after boot, /proc/<pid>/stat), so that a pid the
# kernel has given to another process since (after a restart, say) is not taken for the worker.
WORKER_START_TAG = "bandeja/run_host_worker_start"
# The host warms up for ~10 s (imports and the dbt parse); past this, the run goes the default way.
HOST_START_TIMEOUT_SECONDS = 120.0
# Longest Unix socket path (sun_path holds 108 bytes with the terminating NUL).
MAX_SOCKET_PATH = 100


class RunHostUnavailable(RuntimeError):
    """The run host could not take a run; the message says why."""


class WarmRunLauncher(DefaultRunLauncher):
    """Launches each run as a fork of the warm run host, else as `DefaultRunLauncher` does."""

    def __init__(self, inst_data=None):
        super().__init__(inst_data=inst_data)
        self._host_process: subprocess.Popen | None = None
        self._host_lock = threading.Lock()

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        try:
            pid = self._start_in_host(run.run_id)
        except RunHostUnavailable as exc:
            self._instance.report_engine_event(
                f"Run host unavailable ({exc}); starting the run through the code server.",
                run,
                cls=self.__class__,
            )
            super().launch_run(context)
            return
        tags = {WORKER_PID_TAG: str(pid)}
        stat = _process_stat(pid)
        if stat is not None and stat[1] is not None:
            tags[WORKER_START_TAG] = stat[1]
        self._instance.add_run_tags(run.run_id, tags)
        self._instance.report_engine_event(
            f"Run forked from the warm run host (worker pid: {pid}).", run, cls=self.__class__
        )
        self._run_ids.add(run.run_id)

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id) if self.has_instance else None
        if run is None or WORKER_PID_TAG not in run.tags:
            return super().terminate(run_id)
        if run.is_finished:
            return False
        self._instance.report_run_canceling(run)
        try:
            # The worker turns SIGINT into Dagster's interrupt: the run ends as canceled.
            os.kill(int(run.tags[WORKER_PID_TAG]), signal.SIGINT)
        except ProcessLookupError:
            return False
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        """FAILED for a forked run whose worker process is gone (or is another process now).
        A run started the default way is RUNNING here: its process is the code server's child,
        which Dagster's default launcher does not check either."""
        if WORKER_PID_TAG not in run.tags:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "not forked from the run host")
        pid = int(run.tags[WORKER_PID_TAG])
        stat = _process_stat(pid)
        started = run.tags.get(WORKER_START_TAG)
        if stat is not None and stat[0] not in ZOMBIE_STATES and started in (None, stat[1]):
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=str(pid))
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the run's worker process {pid} is gone (killed or crashed before ending the run)",
            run_worker_id=str(pid),
        )

    def dispose(self) -> None:
        with self._host_lock:
            if self._host_process is not None and self._host_process.poll() is None:
                self._host_process.terminate()
                try:
                    self._host_process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._host_process.kill()
                    self._host_process.wait()
        super().dispose()

    @property
    def socket_path(self) -> Path:
        path = Path(self._instance.root_directory) / "run-host.sock"
        if len(str(path)) < MAX_SOCKET_PATH:
            return path
        # A Unix socket's path has at most 107 bytes: a deep DAGSTER_HOME gets one in /tmp.
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"bandeja-run-host-{digest}.sock"

    def _start_in_host(self, run_id: str) -> int:
        request = json.dumps(
            {"run_id": run_id, "instance_ref": serialize_value(self._instance.get_ref())}
        ).encode()
        with self._host_lock:
            for _attempt in range(2):
                self._ensure_host()
                reply = _ask(self.socket_path, request + b"\n")
                if "pid" in reply:
                    return int(reply["pid"])
                if not reply.get("stale"):
                    raise RunHostUnavailable(reply.get("error", f"unexpected reply {reply}"))
                # The host loaded older code and exited; the next attempt starts a new one.
                self._wait_host_exit()
        raise RunHostUnavailable("the run host keeps reporting stale code")

    def _ensure_host(self) -> None:
        if self._host_process is not None and self._host_process.poll() is None:
            if _connectable(self.socket_path):
                return
            # Alive but not listening (its socket file was removed): replace it.
            self._host_process.kill()
            self._host_process.wait()
        try:
            # Its output and its runs' go where the daemon's go, as the code server's runs do.
            self._host_process = subprocess.Popen(
                [sys.executable, "-m", "pipelines.run_host", str(self.socket_path)],
                stdin=subprocess.DEVNULL,
                env={**os.environ, "DAGSTER_HOME": str(self._instance.root_directory)},
            )
        except OSError as exc:
            raise RunHostUnavailable(f"cannot start the run host: {exc}") from exc
        deadline = time.monotonic() + HOST_START_TIMEOUT_SECONDS
        while not _connectable(self.socket_path):
            if self._host_process.poll() is not None:
                raise RunHostUnavailable(
                    f"the run host exited with {self._host_process.returncode} while starting "
                    "(its error is in the daemon's output)"
                )
            if time.monotonic() > deadline:
                self._host_process.kill()
                raise RunHostUnavailable(
                    f"the run host was not ready after {HOST_START_TIMEOUT_SECONDS:.0f} s"
                )
            time.sleep(0.1)

    def _wait_host_exit(self) -> None:
        if self._host_process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._host_process.wait(timeout=10)


# /proc/<pid>/stat states of a process that has exited (a zombie waits for its parent to reap it).
ZOMBIE_STATES = frozenset({"Z", "X", "x"})


def _process_stat(pid: int) -> tuple[str, str | None] | None:
    """(state, start time) of process `pid`, from /proc/<pid>/stat; None if there is no such
    process. Without /proc (not Linux), ("?", None) for a pid that `kill(pid, 0)` finds."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return ("?", None)
    except OSError:
        return None
    # Field 2, the command name, is in parentheses and may hold spaces; state is field 3 and
    # the start time field 22.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], fields[19]


def _connectable(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _ask(path: Path, request: bytes) -> dict:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(30)
            connection.connect(str(path))
            connection.sendall(request)
            data = b""
            while not data.endswith(b"\n"):
                chunk = connection.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        raise RunHostUnavailable(f"no answer from the run host: {exc}") from exc
    try:
        return json.loads(data)
    except ValueError as exc:
        raise RunHostUnavailable(f"the run host answered {data[:200]!r}") from exc
