"""In-memory mirrors of the current-state rows the writer thread changes."""

from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(slots=True)
class Conversation:
    conversation_id: str
    inbox_id: str
    contact_id: str
    status: str = "open"
    assignee_id: str | None = None
    team_id: str | None = None
    topic: str | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    cycle_number: int = 0
    cycle_opened_at: dt.datetime | None = None
    # Oldest unanswered customer message of the cycle; None once a human replied.
    waiting_since: dt.datetime | None = None
    last_inbound_at: dt.datetime | None = None
    last_human_reply_at: dt.datetime | None = None
    last_assignment_at: dt.datetime | None = None
    last_message_at: dt.datetime | None = None
    is_lead: bool = False
    snoozed_until: dt.datetime | None = None
    off_hours_reply_cycle: int = 0
    alerted_for: dt.datetime | None = None
    reassigned_for: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    # Why the current assignee got it (router, manual, transfer, sla...) at last_assignment_at.
    assignment_reason: str | None = None

    def copy(self) -> Conversation:
        clone = dataclasses.replace(self)
        clone.tags = list(self.tags)
        return clone


@dataclasses.dataclass(slots=True)
class Contact:
    contact_id: str
    wa_id: str | None
    bsuid: str | None
    profile_name: str | None
    first_seen_at: dt.datetime
    updated_at: dt.datetime


@dataclasses.dataclass(slots=True)
class MessageState:
    message_id: str
    conversation_id: str | None
    inbox_id: str | None
    contact_id: str | None
    direction: str
    status: str | None
    status_rank: int
    failed: bool
    error_code: str | None


CONVERSATION_COLUMNS = [field.name for field in dataclasses.fields(Conversation)]
CONTACT_COLUMNS = [field.name for field in dataclasses.fields(Contact)]
MESSAGE_STATE_COLUMNS = [field.name for field in dataclasses.fields(MessageState)]


def conversation_id_for(inbox_id: str, contact_id: str) -> str:
    """One thread per (business number, contact): deterministic so imports and webhooks agree."""
    return f"{inbox_id}:{contact_id}"
