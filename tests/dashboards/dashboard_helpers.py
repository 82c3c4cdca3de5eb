"""Paths shared by the dashboard tests (a name no other test folder uses)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboards" / "app.py"
ARTIFACTS = REPO / "test-artifacts"
