"""Runtime settings: one `BANDEJA_` prefix, read by every component (API, pipeline, dashboards)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "dev-app-secret", "dev-verify-token", "dev-admin-token"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANDEJA_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    inbox_db: Path | None = None
    warehouse_db: Path | None = None
    serving_db: Path | None = None
    reports_dir: Path | None = None
    config_file: Path = Path("config/bandeja.yaml")

    host: str = "127.0.0.1"
    port: int = 8000
    api_url: str = "http://127.0.0.1:8000"
    dashboard_port: int = 8501

    whatsapp_app_secret: SecretStr = SecretStr("dev-app-secret")
    whatsapp_verify_token: SecretStr = SecretStr("dev-verify-token")
    whatsapp_access_token: SecretStr = SecretStr("")
    whatsapp_api_base: str = "https://graph.facebook.com/v24.0"
    channel: Literal["sandbox", "cloud"] = "sandbox"

    admin_token: SecretStr = SecretStr("dev-admin-token")
    feed_token: SecretStr = SecretStr("dev-admin-token")
    # Supervisor token the dashboards read the live queue with; unset = the admin token.
    dashboard_token: SecretStr | None = None

    max_webhook_bytes: int = 3 * 1024 * 1024
    commit_max_batch: int = Field(default=2000, ge=1)
    # DuckDB worker threads for inbox.duckdb. The API runs many tiny statements, where idle
    # workers cost CPU the HTTP loop needs (1 000 webhooks/s: 0.9 core with 1, 1.4 with 2).
    inbox_db_threads: int = Field(default=1, ge=1, le=64)
    sla_tick_seconds: float = Field(default=15.0, gt=0)
    pipeline_interval_minutes: int = Field(default=10, ge=1)
    # Dagster's runs fork from a warm process (pipelines/launcher.py) instead of a fresh one.
    pipeline_warm_runs: bool = True

    @model_validator(mode="after")
    def _derive_paths_and_refuse_placeholders(self) -> Settings:
        self.inbox_db = self.inbox_db or self.data_dir / "inbox.duckdb"
        self.warehouse_db = self.warehouse_db or self.data_dir / "warehouse.duckdb"
        self.serving_db = self.serving_db or self.data_dir / "serving" / "analytics.duckdb"
        self.reports_dir = self.reports_dir or self.data_dir / "reports"
        if self.env == "production":
            for name in ("whatsapp_app_secret", "whatsapp_verify_token", "admin_token"):
                if getattr(self, name).get_secret_value() in PLACEHOLDER_SECRETS:
                    raise ValueError(
                        f"BANDEJA_{name.upper()} is a placeholder; set a real secret in production"
                    )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
