"""The import row shape of docs/events.md, checked per event so a bad row names itself.

The simulator validates what it generates with this, and the bulk writer uses the same column
list, so a generated data set is import-ready by construction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from inbox_api.imports import ACTOR_KINDS, CONVERSATION_EVENTS

IMPORT_COLUMNS = (
    "event_id",
    "event_type",
    "occurred_at",
    "inbox_id",
    "conversation_id",
    "contact_id",
    "actor_kind",
    "actor_id",
    "payload",
)

# Parquet schema of an import batch: payload is JSON text, occurred_at an aware UTC instant.
IMPORT_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "event_type": pl.String(),
    "occurred_at": pl.Datetime("us", "UTC"),
    "inbox_id": pl.String(),
    "conversation_id": pl.String(),
    "contact_id": pl.String(),
    "actor_kind": pl.String(),
    "actor_id": pl.String(),
    "payload": pl.String(),
}


# Payload keys per event type (docs/events.md); `required` must be present, the rest may be.
PAYLOAD_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "message": (
        frozenset({"message_id", "direction", "sender_kind", "message_type"}),
        frozenset(
            {
                "automation_kind",
                "template_name",
                "body",
                "reply_to_message_id",
                "interactive_id",
            }
        ),
    ),
    "message_status": (
        frozenset({"message_id", "status"}),
        frozenset({"error_code", "error_title", "pricing_type", "pricing_category"}),
    ),
    "assignment": (
        frozenset({"agent_id", "team_id", "reason"}),
        frozenset({"previous_agent_id"}),
    ),
    "handoff": (frozenset({"team_id"}), frozenset()),
    "status_change": (
        frozenset({"status"}),
        frozenset({"previous_status", "resolution_kind", "snoozed_until"}),
    ),
    "topic": (frozenset({"topic", "team_id"}), frozenset()),
    "tag": (frozenset({"tag", "action"}), frozenset()),
    "note": (frozenset({"note_id", "body"}), frozenset()),
    "escalation": (
        frozenset({"level", "waiting_since", "agent_id", "team_id"}),
        frozenset({"to_agent_id"}),
    ),
    "survey_sent": (frozenset({"survey_id", "kind", "message_id"}), frozenset()),
    "survey_answer": (frozenset({"survey_id", "kind", "score"}), frozenset()),
    "lead": (frozenset({"lead_id", "source"}), frozenset({"note"})),
    "conversion": (
        frozenset({"conversion_id", "kind", "source"}),
        frozenset({"amount", "currency", "external_id"}),
    ),
    "contact": (frozenset({"contact_id", "bsuid", "profile_name"}), frozenset({"wa_id"})),
    "agent": (
        frozenset({"agent_id", "name", "role", "team_ids", "skills", "capacity", "active"}),
        frozenset(),
    ),
    "team": (frozenset({"team_id", "name"}), frozenset()),
    "audit": (
        frozenset({"action"}),
        frozenset({"method", "path", "client_ip", "status_code", "detail"}),
    ),
}

ENUMS: dict[tuple[str, str], frozenset[Any]] = {
    ("message", "direction"): frozenset({"inbound", "outbound"}),
    ("message", "sender_kind"): frozenset({"customer", "agent", "bot", "automation", "campaign"}),
    ("message", "automation_kind"): frozenset({"off_hours", "auto_reply", "survey", None}),
    ("message_status", "status"): frozenset({"sent", "delivered", "read", "failed", "played"}),
    ("assignment", "reason"): frozenset(
        {"router", "manual", "transfer", "sla", "handoff", "import"}
    ),
    ("status_change", "status"): frozenset({"open", "pending", "snoozed", "resolved"}),
    ("status_change", "resolution_kind"): frozenset(
        {"agent", "bot", "auto_inactivity", "customer", None}
    ),
    ("tag", "action"): frozenset({"added", "removed"}),
    ("escalation", "level"): frozenset({"alert", "reassign"}),
    ("survey_sent", "kind"): frozenset({"csat", "nps"}),
    ("survey_answer", "kind"): frozenset({"csat", "nps"}),
    ("lead", "source"): frozenset({"agent", "tag", "api", "import"}),
    ("conversion", "kind"): frozenset({"sale", "appointment"}),
    ("conversion", "source"): frozenset({"agent", "api", "crm", "import"}),
}

# Event types that are about one conversation and must carry inbox, conversation and contact:
# the importer's own list, so what the simulator writes is what the API accepts.
CONVERSATION_TYPES = CONVERSATION_EVENTS


def parse_instant(value: Any) -> dt.datetime | None:
    """An ISO 8601 instant with an offset, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def validate_event(event: dict[str, Any]) -> list[str]:
    """Every way `event` breaks the contract, as 'field: reason' strings (empty when valid)."""
    problems: list[str] = []
    unknown = set(event) - set(IMPORT_COLUMNS)
    if unknown:
        problems.append(f"{sorted(unknown)[0]}: not an import column")
    for column in ("event_id", "event_type", "actor_kind"):
        if not isinstance(event.get(column), str) or not event[column]:
            problems.append(f"{column}: required, a non-empty string")
    if parse_instant(event.get("occurred_at")) is None:
        problems.append("occurred_at: required, ISO 8601 with a UTC offset")
    if event.get("actor_kind") not in ACTOR_KINDS:
        problems.append(
            f"actor_kind: {event.get('actor_kind')!r} is not one of {sorted(ACTOR_KINDS)}"
        )
    event_type = event.get("event_type")
    if event_type not in PAYLOAD_KEYS:
        problems.append(f"event_type: {event_type!r} is not a known event type")
        return problems
    if event_type in CONVERSATION_TYPES:
        for column in ("inbox_id", "conversation_id", "contact_id"):
            if not event.get(column):
                problems.append(f"{column}: required for {event_type} events")
    payload = event.get("payload")
    if not isinstance(payload, dict):
        problems.append("payload: required, a JSON object")
        return problems
    required, optional = PAYLOAD_KEYS[event_type]
    for key in sorted(required - set(payload)):
        problems.append(f"payload.{key}: required for {event_type}")
    for key in sorted(set(payload) - required - optional):
        problems.append(f"payload.{key}: not a {event_type} key")
    for (etype, key), allowed in ENUMS.items():
        if etype == event_type and key in payload and payload[key] not in allowed:
            problems.append(f"payload.{key}: {payload[key]!r} is not allowed for {event_type}")
    if event_type == "survey_answer" and isinstance(payload.get("score"), int):
        top = 5 if payload.get("kind") == "csat" else 10
        bottom = 1 if payload.get("kind") == "csat" else 0
        if not bottom <= payload["score"] <= top:
            problems.append(f"payload.score: {payload['score']} is outside {bottom}-{top}")
    return problems
