"""The real inbox API served by uvicorn on a loopback port, for the pipeline tests."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from inbox_api.app import create_app
from inbox_api.settings import Settings

FEED_TOKEN = "test-feed-token-0123456789"
ADMIN_TOKEN = "test-admin-token-0123456789"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class FeedApi:
    url: str
    feed_token: str
    admin_token: str

    def import_events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        body = "\n".join(json.dumps(event) for event in events).encode()
        response = httpx.post(
            f"{self.url}/v1/import/events",
            content=body,
            headers={
                "Authorization": f"Bearer {self.admin_token}",
                "Content-Type": "application/x-ndjson",
            },
            timeout=30.0,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def stats(self) -> dict[str, int]:
        response = httpx.get(
            f"{self.url}/v1/feed/stats",
            headers={"Authorization": f"Bearer {self.feed_token}"},
            timeout=30.0,
        )
        assert response.status_code == 200, response.text
        return response.json()


@contextlib.contextmanager
def serve_inbox_api(data_dir: Path) -> Iterator[FeedApi]:
    settings = Settings(
        env="test",
        data_dir=data_dir,
        config_file=REPO / "config" / "bandeja.yaml",
        admin_token=ADMIN_TOKEN,
        feed_token=FEED_TOKEN,
        # No background SLA ticks appending events while a test compares two pulls.
        sla_tick_seconds=3600,
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    # Readiness wait: uvicorn sets `started` once the lifespan (store open, seeding) is done.
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "inbox API did not start"
        time.sleep(0.05)
    try:
        yield FeedApi(f"http://127.0.0.1:{port}", FEED_TOKEN, ADMIN_TOKEN)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
