"""A warm process Dagster's runs fork from: imports and the dbt parse paid once, not every run.

Dagster starts each run in a fresh Python process. For the 10-minute pipeline run that is ~9 s
of a ~20 s run before the first query: importing Dagster, dagster-dbt and dbt (~5 s), parsing
the dbt project (~3 s) and dbt's first-use set-up. The run host does that once: it imports the
definitions, parses the project as a build would, then waits on a Unix socket; for each run it
is sent, it forks a child that executes the run exactly as `dagster api execute_run` would (run
status, events and failures in the instance, Ctrl-C/SIGINT as a cancel). A run therefore still
has its own process (its memory is freed when it ends, a crash takes only that run down), but
that process starts warm.

`pipelines.launcher.WarmRunLauncher` (the run launcher `bandeja pipeline ui` configures) starts
the host on its first launch and sends it every run. The host answers `stale` and exits when the
code or the dbt project changed since it loaded them, and exits when the process that started it
does; the launcher then starts a new one. Nothing here opens a DuckDB file: a fork never
inherits an open database.

Protocol: one JSON line per connection, `{"run_id": ..., "instance_ref": <serialized ref>}`;
the host answers one line, the child's pid (`{"pid": 123}`) or `{"stale": true}`.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Python packages whose code a run executes; a change to any of them makes the host stale.
CODE_PACKAGES = ("pipelines", "ingest", "inbox_api", "dashboards")
# How often the host looks whether its parent is gone, in seconds.
POLL_SECONDS = 1.0
# How long after a discarded interrupt a worker sends itself SIGINT again, in seconds.
REDELIVER_SECONDS = 0.05


def code_fingerprint() -> list[tuple[str, int, int]]:
    """(path, mtime, size) of every Python file a run may import and every dbt project file."""
    from pipelines.defs.dbt import DBT_PROJECT_DIR
    from pipelines.defs.dbt_runner import project_files

    paths = [path for package in CODE_PACKAGES for path in sorted((REPO / package).rglob("*.py"))]
    paths += list(project_files(DBT_PROJECT_DIR))
    fingerprint = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            stat = path.stat()
            fingerprint.append((str(path), stat.st_mtime_ns, stat.st_size))
    return fingerprint


def warm_up() -> None:
    """Import what a run imports and parse the dbt project as the run's dbt step will."""
    from pipelines.definitions import defs
    from pipelines.defs.dbt import DBT_PROJECT_DIR, build_parse_inputs
    from pipelines.defs.dbt_runner import parsed_manifest
    from pipelines.defs.resources import BandejaSettings

    defs.get_repository_def()
    import dbt.cli.main  # noqa: F401  (the build's entry point, imported on first use)

    # A run's resources read the settings from the environment, as BandejaSettings() does here.
    parsed_manifest(DBT_PROJECT_DIR, *build_parse_inputs(BandejaSettings()))


def serve(socket_path: Path) -> None:
    """Warm up, then fork a run worker for each run sent to `socket_path` until stale or
    orphaned."""
    # Signal dispositions are inherited: a launcher that ignores or blocks SIGTERM (a daemon
    # thread, a test runner) must not leave the host deaf to its own shutdown.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parent = os.getppid()
    warm_up()
    fingerprint = code_fingerprint()
    with _listening(socket_path) as listener:
        print(f"run host {os.getpid()} ready on {socket_path}", flush=True)
        while os.getppid() == parent:
            _reap()
            readable, _, _ = select.select([listener], [], [], POLL_SECONDS)
            if not readable:
                continue
            connection, _ = listener.accept()
            with connection:
                try:
                    request = _read_line(connection)
                    run_id, instance_ref = str(request["run_id"]), str(request["instance_ref"])
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    with contextlib.suppress(OSError):
                        connection.sendall(json.dumps({"error": str(exc)}).encode() + b"\n")
                    continue
                if code_fingerprint() != fingerprint:
                    connection.sendall(b'{"stale": true}\n')
                    print("run host: the code changed; exiting", flush=True)
                    return
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    connection.close()
                    os._exit(_execute(run_id, instance_ref))
                connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                print(f"run host: run {run_id} in process {pid}", flush=True)
        print("run host: the launcher's process is gone; exiting", flush=True)


def redeliver_swallowed_interrupts() -> None:
    """Make an interrupt that Python had to discard arrive again.

    Dagster turns SIGINT into an exception raised from its signal handler wherever the main
    thread is. When that is a garbage-collection callback (a weakref's, sqlalchemy's, say),
    Python cannot propagate it: it prints "Exception ignored in ..." and goes on, and the run
    it was meant to cancel ends as a success (seen once in CI: the terminate test's run, its
    interrupt raised inside sqlalchemy's `_collection_gced`). This hook, which Python calls
    for every such discarded exception, sends the process SIGINT again when the discarded one
    was an interrupt, so it is raised anew where the handler next runs. From a timer thread,
    a little later: sent at once, the handler would run inside the hook (Python checks for
    signals right after `os.kill`, and while the hook waits for a thread to start) and be
    discarded again. Discarded again anyway (another callback), it is sent again.
    """
    from dagster._core.errors import DagsterExecutionInterruptedError

    default_hook = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        default_hook(unraisable)
        # Only the main thread's: signal handlers run there. The KeyboardInterrupt the dbt step
        # raises in dbt's thread (dbt_runner._interrupt) comes after the run's own interrupt,
        # while the step waits for that thread; a signal then would cut that wait short.
        if threading.current_thread() is threading.main_thread() and isinstance(
            unraisable.exc_value, KeyboardInterrupt | DagsterExecutionInterruptedError
        ):
            again = threading.Timer(REDELIVER_SECONDS, os.kill, (os.getpid(), signal.SIGINT))
            again.daemon = True
            again.start()

    sys.unraisablehook = hook


def _execute(run_id: str, instance_ref: str) -> int:
    """In the forked child: the run, as `dagster api execute_run` executes it."""
    # A worker takes SIGINT (the launcher's terminate) as Ctrl-C: Dagster cancels the run.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    redeliver_swallowed_interrupts()
    try:
        from dagster._cli.api import _execute_run_command_body
        from dagster._core.instance import DagsterInstance, InstanceRef
        from dagster._serdes import deserialize_value
        from dagster._utils.interrupts import capture_interrupts

        with (
            capture_interrupts(),
            DagsterInstance.from_ref(deserialize_value(instance_ref, InstanceRef)) as instance,
        ):
            return _execute_run_command_body(
                run_id, instance, lambda _event: None, set_exit_code_on_failure=True
            )
    except BaseException as exc:  # the run's failure is in the instance; this is the worker's
        print(f"run host: run {run_id} worker failed: {exc!r}", file=sys.stderr, flush=True)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


@contextlib.contextmanager
def _listening(socket_path: Path) -> Iterator[socket.socket]:
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(socket_path))
        # Only this user may hand the host a run.
        os.chmod(socket_path, 0o600)
        listener.listen(8)
        yield listener
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()


def _read_line(connection: socket.socket, limit: int = 1 << 20) -> dict:
    data = b""
    deadline = time.monotonic() + 10
    while not data.endswith(b"\n"):
        connection.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = connection.recv(65536)
        if not chunk or len(data) > limit:
            raise ValueError("incomplete request")
        data += chunk
    return json.loads(data)


def _reap() -> None:
    """Collect the exit status of finished run workers (no zombies)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
