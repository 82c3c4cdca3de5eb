"""A real `uvicorn` process of the inbox API on a free loopback port, and feed readers for checks.

Shared by the benchmarks and the durability test: both need the production server (uvloop,
httptools, one worker), not the in-process test client.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

PARQUET = "application/vnd.apache.parquet"
ADMIN_TOKEN = "bench-admin-token-0123456789"
APP_SECRET = "bench-app-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`python -m uvicorn --factory inbox_api.app:create_app` with its settings in the env."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "BANDEJA_ENV": "test",
            "BANDEJA_DATA_DIR": str(data_dir),
            "BANDEJA_ADMIN_TOKEN": ADMIN_TOKEN,
            "BANDEJA_FEED_TOKEN": ADMIN_TOKEN,
            "BANDEJA_WHATSAPP_APP_SECRET": APP_SECRET,
            **(env or {}),
        }
        self.log_file = log_file or data_dir / "uvicorn.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "inbox_api.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--log-level",
                "warning",
                "--no-access-log",
                "--timeout-keep-alive",
                "75",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"uvicorn exited with {self.process.returncode}: {self.log_file.read_text()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"uvicorn did not answer /health within {timeout} s")

    def kill(self) -> None:
        """`kill -9`: no shutdown hook runs, exactly like a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def iter_feed(
    url: str, token: str = ADMIN_TOKEN, limit: int = 50_000, after: int = 0
) -> Iterator[pa.Table]:
    """Every page of the change feed as Arrow tables, following `X-Next-After`."""
    with httpx.Client(base_url=url, timeout=120.0) as client:
        while True:
            response = client.get(
                "/v1/feed/events",
                params={"after": after, "limit": limit},
                headers={"Authorization": f"Bearer {token}", "Accept": PARQUET},
            )
            response.raise_for_status()
            table = pq.read_table(io.BytesIO(response.content))
            if table.num_rows:
                yield table
            after = int(response.headers["X-Next-After"])
            if response.headers["X-Has-More"] != "true":
                return


def message_ids(url: str, token: str = ADMIN_TOKEN) -> list[str]:
    """The event id of every `message` event in the feed, in feed order (duplicates kept)."""
    ids: list[str] = []
    for table in iter_feed(url, token):
        mask = pa.compute.equal(table.column("event_type"), "message")
        ids.extend(table.filter(mask).column("event_id").to_pylist())
    return ids
