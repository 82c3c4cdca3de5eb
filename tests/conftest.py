"""Suite-wide settings: no telemetry, no network, artifacts in one folder."""

import os
from pathlib import Path

for _name, _value in {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
}.items():
    os.environ.setdefault(_name, _value)

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
ARTIFACTS.mkdir(exist_ok=True)
