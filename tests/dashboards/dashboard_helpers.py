"""Paths and small helpers shared by the dashboard tests (a name no other test folder uses)."""

from __future__ import annotations

import socket
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboards" / "app.py"
ARTIFACTS = REPO / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
