"""What happens to the inbox when a customer writes, an agent acts, or history is imported.

Every function here runs on the writer thread inside a `Tx` (see `store.writer`): it reads the
staged state, validates first, then appends events and updates state. Routing, SLA timers and
surveys plug in through the hook lists on `Inbox`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from inbox_api.channels import Channel, SendResult
from inbox_api.errors import Conflict, Forbidden, Invalid, NotFound
from inbox_api.store.journal import Delivery
from inbox_api.store.state import Contact, Conversation, MessageState, conversation_id_for
from inbox_api.store.writer import EventStore, Tx
from inbox_api.whatsapp.parse import ChannelUpdate, InboundMessage, StatusUpdate
from ingest.config import BusinessConfig

CUSTOMER_SERVICE_WINDOW = dt.timedelta(hours=24)
STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "played": 4}
CONVERSATION_STATUSES = ("open", "pending", "snoozed", "resolved")
# Message types that are not a conversation turn: they never open a cycle or wake anyone
# (the pipeline's stg_inbox__messages.is_customer_message says the same).
NON_TURN_TYPES = frozenset({"reaction", "system", "request_welcome"})


@dataclasses.dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting and from where: the audit trail's subject."""

    user_id: str
    role: str
    teams: tuple[str, ...] = ()
    client_ip: str | None = None
    method: str | None = None
    path: str | None = None

    @property
    def kind(self) -> str:
        return "system" if self.role == "system" else "agent"


SYSTEM = Actor(user_id="system", role="system")


@dataclasses.dataclass(slots=True)
class WebhookOutcome:
    webhook_id: int
    accepted: bool
    error: str | None = None
    new_messages: int = 0
    duplicates: int = 0
    statuses: int = 0


Hook = Callable[[Tx, Conversation], None]


class Inbox:
    def __init__(self, store: EventStore, config: BusinessConfig, channel: Channel) -> None:
        self.store = store
        self.config = config
        self.calendar = config.business_calendar()
        self.channel = channel
        # Called inside the transaction that opened a new care cycle (routing, off-hours reply).
        self.on_cycle_opened: list[Callable[[Tx, Conversation, InboundMessage | None], None]] = []
        # Called for every inbound customer turn (survey answers, topic detection).
        self.on_inbound: list[Callable[[Tx, Conversation, InboundMessage], None]] = []
        # Called inside the transaction that resolved a conversation (surveys).
        self.on_resolved: list[Hook] = []
        # Asked, without writing, whether a message to a resolved conversation belongs to the
        # closed cycle (a survey answer); a claimed message is stored but opens no new cycle.
        self.claim_inbound: list[Callable[[Tx, Conversation, InboundMessage], bool]] = []
        # Set by `routing.install`: the router, the automated sender and surveys.
        self.automation: Any = None

    def sla_deadline(self, clock_start: dt.datetime) -> dt.datetime:
        """First-response deadline (METRICS.md section 3): 5 min in hours, else the promise."""
        sla = self.config.sla
        if self.calendar.is_business(clock_start):
            target = sla.business_target_seconds
        else:
            target = sla.offhours_target_seconds
        if sla.clock == "business":
            return self.calendar.add_bsec(clock_start, target)
        return clock_start + dt.timedelta(seconds=target)

    # --- webhooks --------------------------------------------------------------------------
    def webhook_command(
        self, webhook_id: int, delivery: Delivery
    ) -> Callable[[Tx], WebhookOutcome]:
        """Apply a delivery the journal committed, recording its outcome in the same transaction.

        Nothing is lost on failure: an update that raises (a bug) rolls back every update of the
        body, and the body is kept in `dead_letters` for replay.
        """

        def command(tx: Tx) -> WebhookOutcome:
            outcome = WebhookOutcome(webhook_id, True)
            if delivery.updates is None:
                tx.dead_letter(webhook_id, f"no longer parses: {delivery.reason}", delivery.body)
                outcome.error = delivery.reason
            else:
                try:
                    with tx.command():
                        for update in delivery.updates:
                            self._apply_update(tx, update, outcome)
                except Exception as exc:  # a bug must not lose the body: keep it for replay
                    outcome.new_messages = outcome.duplicates = outcome.statuses = 0
                    tx.dead_letter(webhook_id, f"apply failed: {exc!r}", delivery.body)
                    outcome.error = f"stored for replay: {exc.__class__.__name__}"
            tx.webhook_outcome(outcome)
            return outcome

        return command

    def _apply_update(self, tx: Tx, update: Any, outcome: WebhookOutcome) -> None:
        if isinstance(update, InboundMessage):
            if self.apply_inbound(tx, update):
                outcome.new_messages += 1
            else:
                outcome.duplicates += 1
        elif isinstance(update, StatusUpdate):
            self.apply_status(tx, update)
            outcome.statuses += 1
        elif isinstance(update, ChannelUpdate):
            tx.event(
                "channel_update",
                payload={"field": update.field, "value": update.value},
                actor_kind="system",
                inbox_id=update.inbox_id,
            )

    def upsert_contact(
        self,
        tx: Tx,
        contact_id: str,
        wa_id: str | None,
        bsuid: str | None,
        profile_name: str | None,
        at: dt.datetime,
    ) -> Contact:
        contact = tx.contact(contact_id)
        changed = contact is None or (
            (profile_name and profile_name != contact.profile_name)
            or (wa_id and wa_id != contact.wa_id)
            or (bsuid and bsuid != contact.bsuid)
        )
        if contact is None:
            contact = Contact(contact_id, wa_id, bsuid, profile_name, at, tx.now)
        elif changed:
            contact = Contact(
                contact_id,
                wa_id or contact.wa_id,
                bsuid or contact.bsuid,
                profile_name or contact.profile_name,
                contact.first_seen_at,
                tx.now,
            )
        if changed:
            tx.put_contact(contact)
            tx.event(
                "contact",
                payload={
                    "contact_id": contact_id,
                    "wa_id": contact.wa_id,
                    "bsuid": contact.bsuid,
                    "profile_name": contact.profile_name,
                },
                actor_kind="customer",
                contact_id=contact_id,
                occurred_at=at,
            )
        return contact

    def apply_inbound(self, tx: Tx, message: InboundMessage) -> bool:
        """Store one inbound message; False when it is a redelivery (same wamid)."""
        event_id = f"msg:{message.message_id}"
        if tx.has_event(event_id):
            return False
        self.upsert_contact(
            tx,
            message.contact_id,
            message.wa_id,
            message.bsuid,
            message.profile_name,
            message.occurred_at,
        )
        conversation_id = conversation_id_for(message.inbox_id, message.contact_id)
        conversation = tx.conversation(conversation_id)
        is_turn = message.message_type not in NON_TURN_TYPES
        opened = False
        if conversation is None:
            conversation = Conversation(
                conversation_id,
                message.inbox_id,
                message.contact_id,
                status="resolved",
                team_id=self.config.default_team,
            )
        at = message.occurred_at
        # A claimed message (a survey answer after resolution) is stored but opens no cycle.
        claimed = (
            is_turn
            and conversation.status == "resolved"
            and conversation.cycle_number > 0
            and any(claim(tx, conversation, message) for claim in self.claim_inbound)
        )
        if claimed:
            conversation.last_inbound_at = max(filter(None, (conversation.last_inbound_at, at)))
        elif is_turn:
            if conversation.status == "resolved":
                opened = True
                previous = conversation.status if conversation.cycle_number else None
                conversation.status = "open"
                conversation.cycle_number += 1
                conversation.cycle_opened_at = at
                conversation.waiting_since = at
                conversation.topic = None
                conversation.alerted_for = None
                conversation.reassigned_for = None
                if previous:
                    self._status_event(tx, conversation, "open", previous, "customer", None, at)
            else:
                if conversation.status == "snoozed":
                    self._status_event(tx, conversation, "open", "snoozed", "customer", None, at)
                    conversation.status = "open"
                    conversation.snoozed_until = None
                if conversation.waiting_since is None or at < conversation.waiting_since:
                    conversation.waiting_since = at
            conversation.last_inbound_at = max(filter(None, (conversation.last_inbound_at, at)))
        conversation.last_message_at = max(filter(None, (conversation.last_message_at, at)))
        tx.event(
            "message",
            event_id=event_id,
            payload={
                "message_id": message.message_id,
                "direction": "inbound",
                "sender_kind": "customer",
                "message_type": message.message_type,
                "automation_kind": None,
                "template_name": None,
                "body": message.body,
                "reply_to_message_id": message.reply_to_message_id,
                "interactive_id": message.interactive_id,
                "is_survey_answer": claimed,
            },
            actor_kind="customer",
            occurred_at=at,
            inbox_id=message.inbox_id,
            conversation_id=conversation_id,
            contact_id=message.contact_id,
        )
        tx.put_message_state(
            MessageState(
                message.message_id,
                conversation_id,
                message.inbox_id,
                message.contact_id,
                "inbound",
                None,
                0,
                False,
                None,
            )
        )
        tx.put_conversation(conversation)
        if opened:
            for hook in self.on_cycle_opened:
                hook(tx, conversation, message)
        if is_turn:
            for hook in self.on_inbound:
                hook(tx, conversation, message)
        return True

    def apply_status(self, tx: Tx, update: StatusUpdate) -> None:
        """Move a message's delivery state forward only; park statuses for unknown messages."""
        state = tx.message_state(update.message_id)
        payload = {
            "message_id": update.message_id,
            "status": update.status,
            "error_code": update.error_code,
            "error_title": update.error_title,
            "pricing_type": update.pricing_type,
            "pricing_category": update.pricing_category,
        }
        if state is None:
            tx.orphan_status(update.message_id, update.status, update.occurred_at, payload)
            return
        self._advance_status(tx, state, update.status, update.occurred_at, payload)

    def _advance_status(
        self, tx: Tx, state: MessageState, status: str, at: dt.datetime, payload: dict
    ) -> None:
        if status == "failed":
            if state.failed:
                return
            state = dataclasses.replace(state, failed=True, error_code=payload.get("error_code"))
        else:
            rank = STATUS_RANK.get(status, 0)
            if rank <= state.status_rank:
                return  # never backwards: read is not downgraded to delivered
            state = dataclasses.replace(state, status=status, status_rank=rank)
        tx.put_message_state(state)
        tx.event(
            "message_status",
            event_id=f"st:{state.message_id}:{status}",
            payload=payload,
            actor_kind="system",
            occurred_at=at,
            inbox_id=state.inbox_id,
            conversation_id=state.conversation_id,
            contact_id=state.contact_id,
        )

    # --- permissions -----------------------------------------------------------------------
    def load_for(self, tx: Tx, actor: Actor, conversation_id: str) -> Conversation:
        conversation = tx.conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id!r} not found")
        self.check_can_act(actor, conversation)
        return conversation

    @staticmethod
    def check_can_act(actor: Actor, conversation: Conversation) -> None:
        if actor.role in ("admin", "system"):
            return
        in_team = conversation.team_id is None or conversation.team_id in actor.teams
        if actor.role == "supervisor" and in_team:
            return
        if actor.role == "agent" and (
            conversation.assignee_id == actor.user_id
            or (conversation.assignee_id is None and in_team)
        ):
            return
        raise Forbidden(
            f"{actor.role} {actor.user_id!r} may not act on conversation "
            f"{conversation.conversation_id!r} (assigned to "
            f"{conversation.assignee_id or 'nobody'}, team {conversation.team_id or 'none'})"
        )

    def audit(
        self,
        tx: Tx,
        actor: Actor,
        action: str,
        conversation: Conversation | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        tx.event(
            "audit",
            payload={
                "action": action,
                "method": actor.method,
                "path": actor.path,
                "client_ip": actor.client_ip,
                "status_code": None,
                "detail": detail or {},
            },
            actor_kind=actor.kind,
            actor_id=actor.user_id,
            inbox_id=conversation.inbox_id if conversation else None,
            conversation_id=conversation.conversation_id if conversation else None,
            contact_id=conversation.contact_id if conversation else None,
        )

    # --- agent actions ---------------------------------------------------------------------
    def check_reply(
        self,
        tx: Tx,
        actor: Actor,
        conversation_id: str,
        *,
        is_template: bool,
        template: tuple[str, str, int] | None = None,
    ) -> tuple[Conversation, Contact]:
        """Validate a reply before the channel sends it; returns the conversation and contact."""
        conversation = self.load_for(tx, actor, conversation_id)
        contact = tx.contact(conversation.contact_id)
        if contact is None:
            raise NotFound(f"contact of conversation {conversation_id!r} not found")
        if not is_template:
            last = conversation.last_inbound_at
            if last is None or tx.now - last > CUSTOMER_SERVICE_WINDOW:
                raise Conflict(
                    "the 24-hour customer service window is closed (last customer message "
                    f"{last.isoformat() if last else 'never'}): only an approved template "
                    "may be sent",
                    field="text",
                )
        if template is not None:
            name, language, variable_count = template
            rows = tx.con.execute(
                "select status, variable_count from templates where name = ? and language = ?",
                [name, language],
            ).fetchall()
            if not rows:
                raise NotFound(f"template {name!r} ({language}) does not exist", field="template")
            status, expected = rows[0]
            if status != "approved":
                raise Conflict(f"template {name!r} is {status}, not approved", field="template")
            if expected != variable_count:
                raise Invalid(
                    f"template {name!r} takes {expected} variables, got {variable_count}",
                    field="template.variables",
                )
        return conversation, contact

    def record_outbound(
        self,
        tx: Tx,
        actor: Actor,
        conversation_id: str,
        sent: SendResult,
        *,
        message_type: str,
        body: str | None,
        sender_kind: str = "agent",
        automation_kind: str | None = None,
        template_name: str | None = None,
        reply_to: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        conversation = tx.conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id!r} not found")
        payload = {
            "message_id": sent.message_id,
            "direction": "outbound",
            "sender_kind": sender_kind,
            "message_type": message_type,
            "automation_kind": automation_kind,
            "template_name": template_name,
            "body": body,
            "reply_to_message_id": reply_to,
            "interactive_id": None,
            **(extra or {}),
        }
        tx.event(
            "message",
            event_id=f"msg:{sent.message_id}",
            payload=payload,
            actor_kind=sender_kind,
            actor_id=actor.user_id if sender_kind == "agent" else None,
            inbox_id=conversation.inbox_id,
            conversation_id=conversation.conversation_id,
            contact_id=conversation.contact_id,
        )
        state = MessageState(
            sent.message_id,
            conversation.conversation_id,
            conversation.inbox_id,
            conversation.contact_id,
            "outbound",
            None,
            0,
            False,
            None,
        )
        tx.put_message_state(state)
        if sender_kind == "agent":
            conversation.waiting_since = None
            conversation.last_human_reply_at = tx.now
            conversation.alerted_for = None
            conversation.reassigned_for = None
            self.audit(tx, actor, "message.sent", conversation, {"message_id": sent.message_id})
        conversation.last_message_at = tx.now
        tx.put_conversation(conversation)
        for status in sent.statuses:
            current = tx.message_state(sent.message_id)
            self._advance_status(
                tx, current, status, tx.now, {"message_id": sent.message_id, "status": status}
            )
        self._attach_orphans(tx, sent.message_id)
        return {"message_id": sent.message_id, **payload}

    def _attach_orphans(self, tx: Tx, message_id: str) -> None:
        for status, occurred_at, payload in tx.take_orphan_statuses(message_id):
            current = tx.message_state(message_id)
            self._advance_status(tx, current, status, occurred_at, payload)

    def add_note(self, tx: Tx, actor: Actor, conversation_id: str, body: str) -> dict[str, Any]:
        conversation = self.load_for(tx, actor, conversation_id)
        note_id = f"note-{self.store.new_id()}"
        tx.event(
            "note",
            payload={"note_id": note_id, "body": body},
            actor_kind="agent",
            actor_id=actor.user_id,
            inbox_id=conversation.inbox_id,
            conversation_id=conversation_id,
            contact_id=conversation.contact_id,
        )
        self.audit(tx, actor, "note.added", conversation, {"note_id": note_id})
        return {"note_id": note_id, "body": body, "author_id": actor.user_id, "at": tx.now}

    def assign(
        self,
        tx: Tx,
        actor: Actor,
        conversation_id: str,
        agent_id: str | None,
        team_id: str | None,
        *,
        reason: str = "manual",
        check: bool = True,
    ) -> Conversation:
        conversation = (
            self.load_for(tx, actor, conversation_id) if check else tx.conversation(conversation_id)
        )
        if conversation is None:
            raise NotFound(f"conversation {conversation_id!r} not found")
        if agent_id is not None:
            rows = tx.con.execute(
                "select teams, active, role from users where user_id = ?", [agent_id]
            ).fetchall()
            if not rows or not rows[0][1]:
                raise NotFound(
                    f"agent {agent_id!r} does not exist or is inactive", field="agent_id"
                )
            if rows[0][2] == "analyst":
                raise Invalid(f"{agent_id!r} is an analyst and cannot own conversations")
            if team_id is None and conversation.team_id not in rows[0][0]:
                team_id = rows[0][0][0] if rows[0][0] else conversation.team_id
        if (
            team_id is not None
            and not tx.con.execute("select 1 from teams where team_id = ?", [team_id]).fetchall()
        ):
            raise NotFound(f"team {team_id!r} does not exist", field="team_id")
        previous = conversation.assignee_id
        conversation.assignee_id = agent_id
        conversation.team_id = team_id or conversation.team_id
        conversation.last_assignment_at = tx.now
        conversation.assignment_reason = reason
        conversation.alerted_for = None
        conversation.reassigned_for = None
        tx.event(
            "assignment",
            payload={
                "agent_id": agent_id,
                "team_id": conversation.team_id,
                "previous_agent_id": previous,
                "reason": reason,
            },
            actor_kind="sla" if reason == "sla" else actor.kind if reason != "router" else "system",
            actor_id=actor.user_id,
            inbox_id=conversation.inbox_id,
            conversation_id=conversation_id,
            contact_id=conversation.contact_id,
        )
        tx.put_conversation(conversation)
        if reason in ("manual", "transfer"):
            self.audit(
                tx,
                actor,
                f"conversation.{reason}",
                conversation,
                {"agent_id": agent_id, "team_id": conversation.team_id, "previous": previous},
            )
        return conversation

    def set_status(
        self,
        tx: Tx,
        actor: Actor,
        conversation_id: str,
        status: str,
        *,
        snoozed_until: dt.datetime | None = None,
        resolution_kind: str = "agent",
    ) -> Conversation:
        if status not in CONVERSATION_STATUSES:
            raise Invalid(
                f"status must be one of {', '.join(CONVERSATION_STATUSES)}", field="status"
            )
        conversation = self.load_for(tx, actor, conversation_id)
        previous = conversation.status
        if previous == status:
            raise Conflict(f"conversation is already {status}", field="status")
        if status == "snoozed" and snoozed_until is not None and snoozed_until <= tx.now:
            raise Invalid("snoozed_until must be in the future", field="snoozed_until")
        conversation.status = status
        conversation.snoozed_until = snoozed_until if status == "snoozed" else None
        if status == "resolved":
            conversation.waiting_since = None
        self._status_event(
            tx,
            conversation,
            status,
            previous,
            actor.kind,
            actor.user_id,
            tx.now,
            resolution_kind=resolution_kind if status == "resolved" else None,
            snoozed_until=conversation.snoozed_until,
        )
        tx.put_conversation(conversation)
        self.audit(tx, actor, f"conversation.{status}", conversation, {"previous": previous})
        if status == "resolved":
            for hook in self.on_resolved:
                hook(tx, conversation)
        return conversation

    def _status_event(
        self,
        tx: Tx,
        conversation: Conversation,
        status: str,
        previous: str | None,
        actor_kind: str,
        actor_id: str | None,
        at: dt.datetime,
        *,
        resolution_kind: str | None = None,
        snoozed_until: dt.datetime | None = None,
    ) -> None:
        tx.event(
            "status_change",
            payload={
                "status": status,
                "previous_status": previous,
                "resolution_kind": resolution_kind,
                "snoozed_until": snoozed_until,
            },
            actor_kind=actor_kind,
            actor_id=actor_id,
            occurred_at=at,
            inbox_id=conversation.inbox_id,
            conversation_id=conversation.conversation_id,
            contact_id=conversation.contact_id,
        )

    def tag(self, tx: Tx, actor: Actor, conversation_id: str, tag: str, add: bool) -> list[str]:
        conversation = self.load_for(tx, actor, conversation_id)
        present = tag in conversation.tags
        if add == present:
            raise Conflict(f"tag {tag!r} is {'already' if present else 'not'} on it", field="tag")
        conversation.tags = sorted(
            {*conversation.tags, tag} if add else set(conversation.tags) - {tag}
        )
        tx.event(
            "tag",
            payload={"tag": tag, "action": "added" if add else "removed"},
            actor_kind=actor.kind,
            actor_id=actor.user_id,
            inbox_id=conversation.inbox_id,
            conversation_id=conversation_id,
            contact_id=conversation.contact_id,
        )
        tx.put_conversation(conversation)
        self.audit(tx, actor, "tag." + ("added" if add else "removed"), conversation, {"tag": tag})
        return conversation.tags

    def mark_lead(
        self, tx: Tx, actor: Actor, conversation_id: str, note: str | None, source: str = "agent"
    ) -> dict[str, Any]:
        conversation = self.load_for(tx, actor, conversation_id)
        lead_id = f"lead:{conversation_id}:{conversation.cycle_number}"
        if tx.has_event(lead_id):
            raise Conflict("this care cycle is already marked as a lead")
        tx.event(
            "lead",
            event_id=lead_id,
            payload={"lead_id": lead_id, "source": source, "note": note},
            actor_kind=actor.kind,
            actor_id=actor.user_id,
            inbox_id=conversation.inbox_id,
            conversation_id=conversation_id,
            contact_id=conversation.contact_id,
        )
        conversation.is_lead = True
        tx.put_conversation(conversation)
        self.audit(tx, actor, "lead.marked", conversation, {"lead_id": lead_id})
        return {"lead_id": lead_id, "cycle_number": conversation.cycle_number}

    def record_conversion(
        self,
        tx: Tx,
        actor: Actor,
        *,
        contact_id: str,
        conversation: Conversation | None,
        kind: str,
        amount: float | None,
        currency: str | None,
        occurred_at: dt.datetime | None,
        source: str,
        external_id: str | None,
    ) -> dict[str, Any]:
        conversion_id = f"conv:{external_id}" if external_id else f"conv:{self.store.new_id()}"
        if external_id and tx.has_event(conversion_id):
            return {"conversion_id": conversion_id, "duplicate": True}
        tx.event(
            "conversion",
            event_id=conversion_id,
            payload={
                "conversion_id": conversion_id,
                "kind": kind,
                "amount": amount,
                "currency": currency,
                "source": source,
                "external_id": external_id,
            },
            actor_kind=actor.kind if source != "crm" else "import",
            actor_id=actor.user_id,
            occurred_at=occurred_at or tx.now,
            inbox_id=conversation.inbox_id if conversation else None,
            conversation_id=conversation.conversation_id if conversation else None,
            contact_id=contact_id,
        )
        self.audit(
            tx,
            actor,
            "conversion.recorded",
            conversation,
            {"conversion_id": conversion_id, "kind": kind, "amount": amount},
        )
        return {"conversion_id": conversion_id, "duplicate": False}

    def record_survey_answer(
        self,
        tx: Tx,
        actor: Actor,
        conversation: Conversation,
        kind: str,
        score: int,
        survey_id: str | None = None,
        actor_kind: str | None = None,
        occurred_at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        limits = {"csat": (1, 5), "nps": (0, 10)}
        low, high = limits[kind]
        if not low <= score <= high:
            raise Invalid(f"{kind} score must be {low}-{high}", field="score")
        survey_id = (
            survey_id or f"survey:{conversation.conversation_id}:{conversation.cycle_number}:{kind}"
        )
        answer_id = f"answer:{survey_id}"
        if tx.has_event(answer_id):
            raise Conflict(f"this cycle's {kind} survey is already answered")
        tx.event(
            "survey_answer",
            event_id=answer_id,
            payload={"survey_id": survey_id, "kind": kind, "score": score},
            actor_kind=actor_kind or actor.kind,
            actor_id=actor.user_id if actor.role != "system" else None,
            occurred_at=occurred_at,
            inbox_id=conversation.inbox_id,
            conversation_id=conversation.conversation_id,
            contact_id=conversation.contact_id,
        )
        if actor.role != "system":
            self.audit(tx, actor, "survey.recorded", conversation, {"kind": kind, "score": score})
        return {"survey_id": survey_id, "kind": kind, "score": score}
