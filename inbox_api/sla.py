"""The SLA engine: timed escalation of conversations waiting for a human reply.

METRICS.md section 3, Escalation: the wait runs from the later of the oldest unanswered customer
message (`waiting_since`) and the last assignment, on the business clock (nothing escalates
while the business is closed). At `sla.alert_after_seconds` a supervisor alert; at
`sla.reassign_after_seconds` a reassignment to another available agent with the skill, else the
team queue. Each fires at most once per waiting period: the conversation row remembers the wait
start each fired for (`alerted_for`, `reassigned_for`), so a restart never repeats one. A reply
clears both; a reassignment starts a new waiting period.

`due_escalations` is pure (tests drive it with any clock); `SlaEngine.tick(now)` applies it in
one writer command; a background task calls `tick` every `settings.sla_tick_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal

from fastapi import FastAPI

from inbox_api.domain import Actor, Inbox
from inbox_api.notify import AlertNotifier
from inbox_api.store.state import Conversation
from inbox_api.store.writer import Tx
from ingest.calendar import BusinessCalendar
from ingest.config import SlaConfig

log = logging.getLogger(__name__)
SLA_ACTOR = Actor(user_id="sla", role="system")


@dataclasses.dataclass(frozen=True, slots=True)
class Action:
    conversation_id: str
    level: Literal["alert", "reassign"]
    wait_started_at: dt.datetime
    waited_business_seconds: float


def wait_start(conversation: Conversation) -> dt.datetime | None:
    """Start of the current no-movement period, or None when nobody is waiting."""
    if conversation.waiting_since is None:
        return None
    assigned = conversation.last_assignment_at
    return max(conversation.waiting_since, assigned) if assigned else conversation.waiting_since


def due_escalations(
    conversations: Iterable[Conversation],
    now: dt.datetime,
    calendar: BusinessCalendar,
    config: SlaConfig,
) -> list[Action]:
    """Alerts and reassignments due at `now`, alert before reassign for one conversation."""
    actions = []
    for conversation in conversations:
        if conversation.status != "open":
            continue
        start = wait_start(conversation)
        if start is None or start > now:
            continue
        waited = calendar.bsec(start, now) or 0.0
        if waited >= config.alert_after_seconds and conversation.alerted_for != start:
            actions.append(Action(conversation.conversation_id, "alert", start, waited))
        if waited >= config.reassign_after_seconds and conversation.reassigned_for != start:
            actions.append(Action(conversation.conversation_id, "reassign", start, waited))
    return actions


class SlaEngine:
    def __init__(self, inbox: Inbox, notifier: AlertNotifier | None = None) -> None:
        self.inbox = inbox
        self.notifier = notifier
        self.router = inbox.automation.router if inbox.automation else None

    async def tick(self, now: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Apply every escalation due at `now` (default: the store's clock)."""
        return await self.inbox.store.run(lambda tx: self.apply(tx, now or tx.now))

    def tick_sync(self, now: dt.datetime | None = None) -> list[dict[str, Any]]:
        return self.inbox.store.run_sync(lambda tx: self.apply(tx, now or tx.now))

    def apply(self, tx: Tx, now: dt.datetime) -> list[dict[str, Any]]:
        sla = self.inbox.config.sla
        # Calendar seconds bound business seconds: only rows waiting that long can be due.
        horizon = now - dt.timedelta(seconds=sla.alert_after_seconds)
        rows = tx.con.execute(
            "select conversation_id from conversations where status = 'open' "
            "and waiting_since is not null "
            "and greatest(waiting_since, coalesce(last_assignment_at, waiting_since)) <= ? "
            "order by conversation_id",
            [horizon],
        ).fetchall()
        conversations = [tx.conversation(row[0]) for row in rows]
        fired = []
        for action in due_escalations(conversations, now, self.inbox.calendar, sla):
            conversation = tx.conversation(action.conversation_id)
            payload = (
                self._alert(tx, conversation, action)
                if action.level == "alert"
                else self._reassign(tx, conversation, action)
            )
            if payload is not None:
                fired.append(payload)
                if self.notifier is not None:
                    alert = {"event": "escalation", **payload}
                    tx.after_commit(lambda alert=alert: self.notifier.publish(alert))
        return fired

    def _event(
        self, tx: Tx, conversation: Conversation, action: Action, to_agent_id: str | None
    ) -> dict[str, Any]:
        payload = {
            "level": action.level,
            "waiting_since": conversation.waiting_since,
            "agent_id": conversation.assignee_id,
            "to_agent_id": to_agent_id,
            "team_id": conversation.team_id,
            "wait_started_at": action.wait_started_at,
            "waited_business_seconds": action.waited_business_seconds,
        }
        tx.event(
            "escalation",
            payload=payload,
            actor_kind="sla",
            actor_id=SLA_ACTOR.user_id,
            inbox_id=conversation.inbox_id,
            conversation_id=conversation.conversation_id,
            contact_id=conversation.contact_id,
        )
        return {"conversation_id": conversation.conversation_id, "at": tx.now, **payload}

    def _alert(self, tx: Tx, conversation: Conversation, action: Action) -> dict[str, Any]:
        payload = self._event(tx, conversation, action, None)
        conversation.alerted_for = action.wait_started_at
        tx.put_conversation(conversation)
        return payload

    def _reassign(
        self, tx: Tx, conversation: Conversation, action: Action
    ) -> dict[str, Any] | None:
        to_agent = None
        if self.router is not None:
            skill = self.router.skill_for(conversation)
            to_agent = self.router.pick_agent(tx, skill, exclude=conversation.assignee_id)
        if to_agent is None and conversation.assignee_id is None:
            # Already in the team queue and nobody free: nothing moves; retried next tick.
            return None
        payload = self._event(tx, conversation, action, to_agent)
        self.inbox.assign(
            tx, SLA_ACTOR, conversation.conversation_id, to_agent, None, reason="sla", check=False
        )
        moved = tx.conversation(conversation.conversation_id)
        moved.reassigned_for = action.wait_started_at
        tx.put_conversation(moved)
        return payload

    async def run(
        self, interval: float, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> None:
        while True:
            await sleep(interval)
            try:
                await self.tick()
            except Exception:
                log.exception("SLA tick failed")


def start(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """Start-up hook: the alert notifier and the SLA loop; returns their stop function."""
    inbox: Inbox = app.state.inbox
    notifier = AlertNotifier(inbox.config.alert_webhooks)
    engine = SlaEngine(inbox, notifier)
    app.state.sla = engine
    app.state.notifier = notifier
    notifier.start()
    task = asyncio.get_running_loop().create_task(
        engine.run(app.state.settings.sla_tick_seconds), name="sla-engine"
    )

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await notifier.stop()

    return stop
