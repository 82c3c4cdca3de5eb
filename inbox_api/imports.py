"""Bulk import of events with their original timestamps (simulator history, migrations).

A batch is validated whole before anything is written: one bad row rejects the batch with a
report naming every bad row. Idempotent by `event_id`. Imported events go to the log as they are
and are applied to the current state, so the inbox shows imported conversations.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
from typing import Any

import orjson
import pyarrow.parquet as pq

from inbox_api.domain import NON_TURN_TYPES, STATUS_RANK, Actor, Inbox
from inbox_api.errors import Invalid
from inbox_api.store.state import Contact, Conversation, MessageState
from inbox_api.store.writer import Tx

MAX_BATCH = 50_000
ACTOR_KINDS = frozenset(
    {"customer", "agent", "bot", "automation", "sla", "system", "campaign", "import"}
)
CONVERSATION_EVENTS = frozenset(
    {
        "message",
        "message_status",
        "assignment",
        "handoff",
        "status_change",
        "topic",
        "tag",
        "note",
        "escalation",
        "survey_sent",
        "survey_answer",
        "lead",
    }
)
# Every type of docs/events.md: the conversation events plus those about no one conversation.
EVENT_TYPES = CONVERSATION_EVENTS | {
    "conversion",
    "contact",
    "agent",
    "team",
    "audit",
    "channel_update",
}
# Payload keys each type must carry, with the allowed values where the set is closed.
REQUIRED: dict[str, dict[str, frozenset[str] | None]] = {
    "message": {
        "message_id": None,
        "direction": frozenset({"inbound", "outbound"}),
        "sender_kind": frozenset({"customer", "agent", "bot", "automation", "campaign"}),
        "message_type": None,
    },
    "message_status": {
        "message_id": None,
        "status": frozenset({"sent", "delivered", "read", "failed", "played"}),
    },
    "assignment": {"reason": None},
    "status_change": {"status": frozenset({"open", "pending", "snoozed", "resolved"})},
    "tag": {"tag": None, "action": frozenset({"added", "removed"})},
    "topic": {"topic": None},
    "escalation": {"level": frozenset({"alert", "reassign"})},
    "survey_sent": {"survey_id": None, "kind": frozenset({"csat", "nps"})},
    "survey_answer": {"survey_id": None, "kind": frozenset({"csat", "nps"}), "score": None},
    "lead": {"lead_id": None},
    "conversion": {"conversion_id": None, "kind": frozenset({"sale", "appointment"})},
    "contact": {"contact_id": None},
    "agent": {"agent_id": None},
    "team": {"team_id": None},
}
SCORE_RANGE = {"csat": (1, 5), "nps": (0, 10)}


@dataclasses.dataclass(slots=True)
class RowError:
    row: int
    field: str
    message: str


class ImportRejected(Invalid):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"batch rejected: {len(errors)} problem(s); nothing was imported")
        self.errors = errors


def parse_ndjson(body: bytes) -> list[Any]:
    rows: list[Any] = []
    errors: list[RowError] = []
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            errors.append(RowError(number, "(line)", f"not valid JSON: {exc}"))
            rows.append(None)
    if errors:
        raise ImportRejected(errors)
    return rows


def parse_parquet(body: bytes) -> list[Any]:
    try:
        table = pq.read_table(io.BytesIO(body))
    except Exception as exc:
        raise Invalid(f"body is not a readable Parquet file: {exc}") from exc
    rows = table.to_pylist()
    for row in rows:
        if isinstance(row.get("payload"), str):
            # Unparseable text stays a string: validation reports it as not an object.
            with contextlib.suppress(orjson.JSONDecodeError):
                row["payload"] = orjson.loads(row["payload"])
    return rows


def _parse_instant(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else None
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def validate(rows: list[Any], now: dt.datetime) -> list[dict[str, Any]]:
    if len(rows) > MAX_BATCH:
        raise Invalid(f"at most {MAX_BATCH} events per batch, got {len(rows)}")
    if not rows:
        raise Invalid("the batch holds no events")
    errors: list[RowError] = []
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    horizon = now + dt.timedelta(minutes=5)
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            errors.append(RowError(number, "(row)", "expected a JSON object"))
            continue
        before = len(errors)
        event_id = row.get("event_id")
        if not isinstance(event_id, str) or not 0 < len(event_id) <= 256:
            errors.append(RowError(number, "event_id", "required string of 1-256 characters"))
        elif event_id in seen:
            errors.append(RowError(number, "event_id", f"{event_id!r} repeats in this batch"))
        else:
            seen.add(event_id)
        event_type = row.get("event_type")
        if event_type not in EVENT_TYPES:
            errors.append(RowError(number, "event_type", f"unknown event type {event_type!r}"))
        occurred_at = _parse_instant(row.get("occurred_at"))
        if occurred_at is None:
            errors.append(
                RowError(number, "occurred_at", "required ISO 8601 instant with a UTC offset")
            )
        elif occurred_at > horizon:
            errors.append(RowError(number, "occurred_at", "is in the future"))
        if row.get("actor_kind") not in ACTOR_KINDS:
            errors.append(
                RowError(number, "actor_kind", f"must be one of {', '.join(sorted(ACTOR_KINDS))}")
            )
        for key in ("inbox_id", "conversation_id", "contact_id", "actor_id"):
            if row.get(key) is not None and not isinstance(row.get(key), str):
                errors.append(RowError(number, key, "must be a string or null"))
        if event_type in CONVERSATION_EVENTS and not row.get("conversation_id"):
            errors.append(RowError(number, "conversation_id", f"required for {event_type}"))
        payload = row.get("payload")
        if not isinstance(payload, dict):
            errors.append(RowError(number, "payload", "required JSON object"))
        elif event_type in REQUIRED:
            for key, allowed in REQUIRED[event_type].items():
                value = payload.get(key)
                if value is None or value == "":
                    errors.append(RowError(number, f"payload.{key}", "required"))
                elif allowed is not None and value not in allowed:
                    errors.append(
                        RowError(
                            number, f"payload.{key}", f"must be one of {', '.join(sorted(allowed))}"
                        )
                    )
            if event_type == "survey_answer" and payload.get("kind") in SCORE_RANGE:
                low, high = SCORE_RANGE[payload["kind"]]
                score = payload.get("score")
                if (
                    not isinstance(score, int)
                    or isinstance(score, bool)
                    or not low <= score <= high
                ):
                    errors.append(
                        RowError(number, "payload.score", f"must be an integer {low}-{high}")
                    )
        if len(errors) == before:
            clean.append({**row, "occurred_at": occurred_at.astimezone(dt.UTC)})
        if len(errors) >= 1000:
            break
    if errors:
        raise ImportRejected(errors)
    return clean


def import_events(inbox: Inbox, tx: Tx, actor: Actor, rows: list[dict[str, Any]]) -> dict[str, int]:
    known = tx.known_event_ids([row["event_id"] for row in rows])
    fresh = sorted(
        (row for row in rows if row["event_id"] not in known), key=lambda row: row["occurred_at"]
    )
    for row in fresh:
        tx.event(
            row["event_type"],
            event_id=row["event_id"],
            payload=row["payload"],
            actor_kind=row["actor_kind"],
            actor_id=row.get("actor_id"),
            occurred_at=row["occurred_at"],
            inbox_id=row.get("inbox_id"),
            conversation_id=row.get("conversation_id"),
            contact_id=row.get("contact_id"),
        )
        _apply(inbox, tx, row)
    if fresh:
        inbox.audit(
            tx,
            actor,
            "events.imported",
            None,
            {"accepted": len(fresh), "duplicates": len(rows) - len(fresh)},
        )
    return {"accepted": len(fresh), "duplicates": len(rows) - len(fresh)}


def _conversation(inbox: Inbox, tx: Tx, row: dict[str, Any]) -> Conversation | None:
    conversation_id = row.get("conversation_id")
    if not conversation_id:
        return None
    conversation = tx.conversation(conversation_id)
    if conversation is None:
        conversation = Conversation(
            conversation_id,
            row.get("inbox_id") or "",
            row.get("contact_id") or "",
            status="resolved",
            team_id=inbox.config.default_team,
        )
    return conversation


def _apply(inbox: Inbox, tx: Tx, row: dict[str, Any]) -> None:
    """Fold one imported event into the current state (the same meaning as the live path)."""
    kind, payload, at = row["event_type"], row["payload"], row["occurred_at"]
    if kind == "contact":
        contact_id = payload["contact_id"]
        existing = tx.contact(contact_id)
        tx.put_contact(
            Contact(
                contact_id,
                payload.get("wa_id") or (existing.wa_id if existing else None),
                payload.get("bsuid") or (existing.bsuid if existing else None),
                payload.get("profile_name") or (existing.profile_name if existing else None),
                existing.first_seen_at if existing else at,
                tx.now,
            )
        )
        return
    if kind == "team":
        tx.con.execute(
            "insert or replace into teams values (?, ?)",
            [payload["team_id"], payload.get("name") or payload["team_id"]],
        )
        return
    if kind == "agent":
        upsert_agent_row(tx, payload)
        return
    if kind == "message_status":
        state = tx.message_state(payload["message_id"])
        if state is None:
            return
        if payload["status"] == "failed":
            tx.put_message_state(dataclasses.replace(state, failed=True))
        elif STATUS_RANK.get(payload["status"], 0) > state.status_rank:
            tx.put_message_state(
                dataclasses.replace(
                    state, status=payload["status"], status_rank=STATUS_RANK[payload["status"]]
                )
            )
        return
    conversation = _conversation(inbox, tx, row)
    if conversation is None:
        return
    if kind == "message":
        inbound = payload["direction"] == "inbound"
        tx.put_message_state(
            MessageState(
                payload["message_id"],
                conversation.conversation_id,
                conversation.inbox_id,
                conversation.contact_id,
                payload["direction"],
                None,
                0,
                False,
                None,
            )
        )
        if (
            inbound
            and payload["sender_kind"] == "customer"
            and payload["message_type"] not in NON_TURN_TYPES
            and not payload.get("is_survey_answer")
        ):
            if conversation.status == "resolved":
                conversation.status = "open"
                conversation.cycle_number += 1
                conversation.cycle_opened_at = at
                conversation.waiting_since = at
                conversation.topic = None
            elif conversation.waiting_since is None:
                conversation.waiting_since = at
            if conversation.status == "snoozed":
                conversation.status = "open"
            conversation.last_inbound_at = max(filter(None, (conversation.last_inbound_at, at)))
        elif payload["sender_kind"] == "agent":
            conversation.waiting_since = None
            conversation.last_human_reply_at = at
        conversation.last_message_at = max(filter(None, (conversation.last_message_at, at)))
    elif kind == "assignment":
        conversation.assignee_id = payload.get("agent_id")
        conversation.team_id = payload.get("team_id") or conversation.team_id
        conversation.last_assignment_at = at
        conversation.assignment_reason = payload.get("reason")
    elif kind == "status_change":
        conversation.status = payload["status"]
        if payload["status"] == "resolved":
            conversation.waiting_since = None
    elif kind == "tag":
        tags = set(conversation.tags)
        tags.add(payload["tag"]) if payload["action"] == "added" else tags.discard(payload["tag"])
        conversation.tags = sorted(tags)
    elif kind == "topic":
        conversation.topic = payload["topic"]
        conversation.team_id = payload.get("team_id") or conversation.team_id
    elif kind == "lead":
        conversation.is_lead = True
    else:
        return
    tx.put_conversation(conversation)


def upsert_agent_row(tx: Tx, payload: dict[str, Any]) -> None:
    """Create or update an agent without touching its token."""
    teams = list(payload.get("team_ids") or payload.get("teams") or [])
    skills = list(payload.get("skills") or [])
    rows = tx.con.execute(
        "select token_hash, token_prefix, created_at from users where user_id = ?",
        [payload["agent_id"]],
    ).fetchall()
    token_hash, token_prefix, created_at = rows[0] if rows else (None, None, tx.now)
    tx.con.execute(
        "insert or replace into users values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            payload["agent_id"],
            payload.get("name") or payload["agent_id"],
            payload.get("role") or "agent",
            teams,
            skills,
            int(payload.get("capacity") or 8),
            bool(payload.get("active", True)),
            token_hash,
            token_prefix,
            created_at,
        ],
    )
