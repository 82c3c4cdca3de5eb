"""The traffic simulator: generate a business's WhatsApp events, summarise them, write bulk sets.

Pure functions first (`generate`, `summarize`, `write_bulk`); the HTTP modes (history import,
live play) live in their own modules and are driven by `bandeja simulate`.
"""

from ingest.simulator.bulk import BulkStats, write_bulk
from ingest.simulator.contract import IMPORT_COLUMNS, IMPORT_SCHEMA, validate_event
from ingest.simulator.profile import Profile
from ingest.simulator.summary import Summary, summarize
from ingest.simulator.traffic import INBOX_ID, generate

__all__ = [
    "IMPORT_COLUMNS",
    "IMPORT_SCHEMA",
    "INBOX_ID",
    "BulkStats",
    "Profile",
    "Summary",
    "generate",
    "summarize",
    "validate_event",
    "write_bulk",
]
