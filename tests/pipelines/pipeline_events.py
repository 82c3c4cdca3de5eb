"""A small, realistic event history: two care cycles on one conversation, plus agents and teams."""

from __future__ import annotations

import datetime as dt
from typing import Any

INBOX = "pn-1001"
CONVERSATION = "conv-1"
CONTACT = "521555000111"


def _event(
    event_id: str,
    event_type: str,
    occurred_at: dt.datetime,
    payload: dict[str, Any],
    *,
    actor_kind: str,
    actor_id: str | None = None,
    conversation: str | None = CONVERSATION,
    contact: str | None = CONTACT,
    inbox: str | None = INBOX,
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at.astimezone(dt.UTC).isoformat(),
        "inbox_id": inbox,
        "conversation_id": conversation,
        "contact_id": contact,
        "actor_kind": actor_kind,
        "actor_id": actor_id,
        "payload": payload,
    }


def sample_events(start: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Events as `POST /v1/import/events` takes them (docs/events.md without seq/recorded_at)."""
    # Default: Tuesday 10:00 in Mexico City (16:00 UTC) at least a week ago, so every event is in
    # the past (the API refuses future ones) and starts in business hours.
    if start is None:
        day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=7)
        day -= dt.timedelta(days=(day.weekday() - 1) % 7)
        start = dt.datetime.combine(day, dt.time(16, 0), dt.UTC)
    t0 = start

    def at(minutes: float) -> dt.datetime:
        return t0 + dt.timedelta(minutes=minutes)

    def message(wamid: str, minutes: float, direction: str, sender: str, actor: str | None):
        return _event(
            f"msg:{wamid}",
            "message",
            at(minutes),
            {
                "message_id": wamid,
                "direction": direction,
                "sender_kind": sender,
                "message_type": "text",
                "automation_kind": None,
                "template_name": None,
                "body": "hola" if direction == "inbound" else "¿en qué te ayudo?",
                "reply_to_message_id": None,
                "interactive_id": None,
            },
            actor_kind=sender,
            actor_id=actor,
        )

    def status(event_id: str, minutes: float, new: str, previous: str, kind: str | None):
        return _event(
            event_id,
            "status_change",
            at(minutes),
            {
                "status": new,
                "previous_status": previous,
                "resolution_kind": kind,
                "snoozed_until": None,
            },
            actor_kind="agent",
            actor_id="carla",
        )

    no_conversation = {"conversation": None, "contact": None, "inbox": None}
    return [
        _event(
            "team:support",
            "team",
            at(-60),
            {"team_id": "support", "name": "Soporte"},
            actor_kind="import",
            **no_conversation,
        ),
        _event(
            "agent:carla",
            "agent",
            at(-60),
            {
                "agent_id": "carla",
                "name": "Carla Méndez",
                "role": "agent",
                "team_ids": ["support"],
                "skills": ["support"],
                "capacity": 10,
                "active": True,
            },
            actor_kind="import",
            **no_conversation,
        ),
        _event(
            "contact:1",
            "contact",
            at(-1),
            {"contact_id": CONTACT, "wa_id": CONTACT, "bsuid": None, "profile_name": "Luis"},
            actor_kind="customer",
        ),
        message("wamid.in1", 0, "inbound", "customer", None),
        _event(
            "asg:1",
            "assignment",
            at(0.5),
            {
                "agent_id": "carla",
                "team_id": "support",
                "previous_agent_id": None,
                "reason": "router",
            },
            actor_kind="system",
        ),
        message("out:1", 3, "outbound", "agent", "carla"),
        status("st:1", 10, "resolved", "open", "agent"),
        message("wamid.in2", 60, "inbound", "customer", None),
        status("st:2", 60.1, "open", "resolved", None),
    ]


def many_messages(count: int, start: dt.datetime | None = None) -> list[dict[str, Any]]:
    """`count` inbound messages a second apart on one conversation: a feed long enough to span
    many pages."""
    start = start or dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    return [
        _event(
            f"msg:wamid.bulk{number}",
            "message",
            start + dt.timedelta(seconds=number),
            {
                "message_id": f"wamid.bulk{number}",
                "direction": "inbound",
                "sender_kind": "customer",
                "message_type": "text",
                "body": f"mensaje {number}",
            },
            actor_kind="customer",
        )
        for number in range(count)
    ]
