"""The Dagster instance of an in-process run (`pipelines.runner`): Dagster's ephemeral one, with
an event log that does not open a database connection per query."""

import contextlib
from collections.abc import Iterator

import dagster as dg
import sqlalchemy
from dagster._core.instance import InstanceType
from dagster._core.launcher.sync_in_memory_run_launcher import SyncInMemoryRunLauncher
from dagster._core.run_coordinator import DefaultRunCoordinator
from dagster._core.storage.event_log import InMemoryEventLogStorage
from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
from dagster._core.storage.root import TemporaryLocalArtifactStorage
from dagster._core.storage.runs import InMemoryRunStorage


class HeldConnectionEventLogStorage(InMemoryEventLogStorage):
    """Dagster's in-memory event log on the one connection it already holds.

    The stock one opens a new SQLite connection, with two PRAGMAs, for each of the ~4 queries
    of every event (and one more to ask whether a table exists), and a run stores ~480 (a start,
    a materialization or a check result per dbt node, their planned twins): 3-11 ms an event,
    because each of those C calls hands the GIL back and forth with dbt's threads. Same tables,
    same queries, same lock.
    """

    def __init__(self) -> None:
        self._tables: dict[str, bool] = {}
        super().__init__()

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlalchemy.Connection]:
        with self._db_lock, self._held_conn.begin():
            yield self._held_conn

    def has_table(self, table_name: str) -> bool:
        # Asked per event, from inside `_connect` too; every table is made in __init__.
        if table_name not in self._tables:
            self._tables[table_name] = super().has_table(table_name)
        return self._tables[table_name]


def ephemeral_instance() -> dg.DagsterInstance:
    """The instance `dg.materialize` would make for itself (`DagsterInstance.ephemeral()`), with
    the faster event log; dispose it after the run (`with ephemeral_instance() as instance`)."""
    return dg.DagsterInstance(
        instance_type=InstanceType.EPHEMERAL,
        local_artifact_storage=TemporaryLocalArtifactStorage(),
        run_storage=InMemoryRunStorage(),
        event_storage=HeldConnectionEventLogStorage(),
        compute_log_manager=NoOpComputeLogManager(),
        run_coordinator=DefaultRunCoordinator(),
        run_launcher=SyncInMemoryRunLauncher(),
    )
