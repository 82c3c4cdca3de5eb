"""Resources: runtime settings resolved when a run starts, never when definitions load."""

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from inbox_api.settings import Settings
from ingest.config import BusinessConfig, load_config

# Every step that opens the warehouse for writing runs in this pool; its limit is 1 (see
# `pipelines.commands.DAGSTER_YAML`), so two writers never hold the DuckDB file at once.
WAREHOUSE_POOL = "bandeja_warehouse"
# Run-level tag limited to one in-flight run by the instance config, for the same reason.
WAREHOUSE_RUN_TAG = {"bandeja/warehouse": "writer"}

# The dbt target for each runtime environment (`BANDEJA_ENV`); profiles.yml defines them.
DBT_TARGETS = {"development": "dev", "test": "dev", "production": "prod"}


def dbt_target(env: str) -> str:
    """The dbt profile target for a runtime environment."""
    try:
        return DBT_TARGETS[env]
    except KeyError:
        raise ValueError(
            f"no dbt target for environment {env!r}; expected one of {', '.join(DBT_TARGETS)}"
        ) from None


class BandejaSettings(dg.ConfigurableResource):
    """`inbox_api.settings.Settings`, read from `BANDEJA_*` when a step asks for it.

    Fields left as None come from the environment, so the same definitions serve `dagster dev`,
    the CLI and tests (which pass explicit temp paths).
    """

    env: str | None = None
    data_dir: str | None = None
    warehouse_db: str | None = None
    serving_db: str | None = None
    reports_dir: str | None = None
    config_file: str | None = None
    api_url: str | None = None
    feed_token: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "BandejaSettings":
        return cls(
            env=settings.env,
            data_dir=str(settings.data_dir),
            warehouse_db=str(settings.warehouse_db),
            serving_db=str(settings.serving_db),
            reports_dir=str(settings.reports_dir),
            config_file=str(settings.config_file),
            api_url=settings.api_url,
            feed_token=settings.feed_token.get_secret_value(),
        )

    def settings(self) -> Settings:
        fields = (
            "env",
            "data_dir",
            "warehouse_db",
            "serving_db",
            "reports_dir",
            "config_file",
            "api_url",
            "feed_token",
        )
        overrides = {name: getattr(self, name) for name in fields if getattr(self, name)}
        return Settings(**overrides)

    def business_config(self) -> BusinessConfig:
        return load_config(self.settings().config_file)


def connect_warehouse(warehouse_db: Path) -> duckdb.DuckDBPyConnection:
    """A writing connection to the warehouse for the ingest steps. Its closing checkpoint merges
    no row groups (`max_vacuum_tasks` 0): that work, 2-7 s after a full refresh of the 10 M
    bench, is the daily dbt build's (`checkpoint_vacuum()` in dbt_project/macros/storage.sql),
    not a view's or a calendar's rewrite every few minutes."""
    return duckdb.connect(str(warehouse_db), config={"max_vacuum_tasks": 0})


@contextlib.contextmanager
def warehouse_lock(warehouse_db: Path) -> Iterator[None]:
    """Hold the warehouse's writer lock (`<file>.lock`) for a block, waiting for it if needed.

    Dagster's pool serialises steps within one instance; this lock also covers writers outside
    it (`bandeja pipeline run` while `dagster dev` runs its schedule), which would otherwise
    fail on DuckDB's own file lock.
    """
    lock_path = Path(f"{warehouse_db}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def environ(overrides: dict[str, str]) -> Iterator[None]:
    """Set environment variables for a block (dbt reads its warehouse path from the env)."""
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def absolute(path: Path) -> str:
    return str(Path(path).expanduser().resolve())
