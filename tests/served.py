"""The app served for real: uvicorn on a free loopback port in a thread, and an httpx client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """uvicorn running the app on a free loopback port in a thread, lifespan included."""

    def __init__(self, app: FastAPI) -> None:
        port = free_port()
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop serving and run the lifespan's shutdown (the app closes its DuckDB files)."""
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run the app under uvicorn on a free loopback port in a thread; yields the base URL."""
    with Server(app) as server:
        yield server.url


class LiveClient(httpx.Client):
    """An httpx client on a served app that keeps the app, so a test can reach its state (wait
    for the outbound sender, run an SLA tick at the injected clock's time, break the journal)."""

    def __init__(self, app: FastAPI, server: Server) -> None:
        super().__init__(base_url=server.url, timeout=30)
        self.app = app
        self._server = server

    def stop(self) -> None:
        """Close the client and stop the server, so a test can open the app's files itself."""
        self.close()
        self._server.stop()


@contextmanager
def served(app: FastAPI) -> Iterator[LiveClient]:
    """The app on a loopback port, its lifespan run, and a client talking HTTP to it."""
    with Server(app) as server, LiveClient(app, server) as client:
        yield client
