"""Routing: a new care cycle gets a topic, a team and an agent; off-hours promise; the menu.

Everything here runs inside writer transactions through the `Inbox` hook lists, so a routing
decision commits with the message that caused it. Channel sends are async HTTP and never run
inside a transaction: `AutoSender` schedules them on the event loop after the commit and records
the sent message with a second command.

Rules (issue 3, METRICS.md section 2):
- Topic: a button/list payload names a topic; else the first topic with a keyword in the text;
  else none (the default team), and the first-message menu goes out when enabled. A menu answer
  later in the cycle sets the topic and moves a router-made assignment to the topic's team.
- Agent: among active agents (role `agent`) marked available, on shift now, with the topic's
  skill and fewer open conversations than their capacity, the one with the fewest open
  conversations; ties go to the smallest agent id. Nobody: the cycle waits in the team queue.
  When the previous cycle's agent is still eligible the conversation stays with them.
- Manual assignment and transfer win: the router never moves a conversation whose last
  assignment in the cycle was made by a person.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import re
import threading
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from inbox_api.channels import text_message
from inbox_api.domain import CUSTOMER_SERVICE_WINDOW, SYSTEM, Actor, Inbox
from inbox_api.errors import InboxError
from inbox_api.store.state import Conversation
from inbox_api.store.writer import Tx
from inbox_api.whatsapp.parse import InboundMessage
from ingest.calendar import BusinessCalendar
from ingest.config import AgentConfig, TopicConfig

log = logging.getLogger(__name__)
ROUTER = Actor(user_id="router", role="system")
# Conversations that count against an agent's capacity.
# Common words, accents folded, to answer customers in their language.
_ENGLISH = frozenset(
    (
        "hi",
        "hello",
        "hey",
        "the",
        "and",
        "is",
        "are",
        "my",
        "your",
        "please",
        "thanks",
        "thank",
        "you",
        "order",
        "help",
        "price",
        "want",
        "need",
        "i",
        "can",
        "how",
        "what",
        "when",
        "where",
    )
)
_SPANISH = frozenset(
    (
        "hola",
        "buenas",
        "buenos",
        "el",
        "la",
        "los",
        "las",
        "y",
        "es",
        "son",
        "mi",
        "tu",
        "por",
        "favor",
        "gracias",
        "pedido",
        "ayuda",
        "precio",
        "quiero",
        "necesito",
        "puedo",
        "como",
        "que",
        "cuando",
        "donde",
    )
)


def _fold(text: str) -> str:
    """Lower case without accents, so 'Envío' matches the keyword 'envio' and vice versa."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str | None) -> list[str]:
    return re.findall(r"\w+", _fold(text or ""))


def detect_language(text: str | None, default: str) -> str:
    """'en' or 'es' by counting common words; the configured language when it is a tie."""
    words = _words(text)
    english = sum(word in _ENGLISH for word in words)
    spanish = sum(word in _SPANISH for word in words)
    if english > spanish:
        return "en"
    if spanish > english:
        return "es"
    return default


def detect_topic(topics: list[TopicConfig], message: InboundMessage | None) -> TopicConfig | None:
    """Payload first (a tapped button is unambiguous), then keywords in configured order."""
    if message is None:
        return None
    if message.interactive_id:
        for topic in topics:
            if message.interactive_id in topic.payloads:
                return topic
    words = set(_words(message.body))
    text = " ".join(_words(message.body))
    for topic in topics:
        for keyword in topic.keywords:
            folded = " ".join(_words(keyword))
            if folded and (folded in words or (" " in folded and folded in text)):
                return topic
    return None


def interactive_list(
    body: str, button: str, rows: list[tuple[str, str]], section: str = "-"
) -> dict[str, Any]:
    """A WhatsApp list message (up to 10 rows; titles up to 24 characters)."""
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {
                "button": button[:20],
                "sections": [
                    {
                        "title": section[:24],
                        "rows": [{"id": rid, "title": title[:24]} for rid, title in rows[:10]],
                    }
                ],
            },
        },
    }


@dataclasses.dataclass(frozen=True, slots=True)
class Candidate:
    agent_id: str
    skills: tuple[str, ...]
    capacity: int


class AutoSender:
    """Sends automated messages after the commit, on the event loop, and records them.

    `wait_idle` lets tests (and shutdown) wait until every scheduled send has been recorded.
    """

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.loop: asyncio.AbstractEventLoop | None = None
        self._pending = 0
        self._idle = threading.Condition()
        self._tasks: set[asyncio.Task] = set()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def schedule(self, tx: Tx, job: Callable[[], Awaitable[None]]) -> None:
        """Run `job` on the event loop once `tx` commits; never inside the transaction."""
        with self._idle:
            self._pending += 1
        tx.after_commit(lambda: self._start(job))

    def _start(self, job: Callable[[], Awaitable[None]]) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            log.error("no event loop to send an automated message on; dropped")
            self._done()
            return
        loop.call_soon_threadsafe(self._spawn, job)

    def _spawn(self, job: Callable[[], Awaitable[None]]) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: Callable[[], Awaitable[None]]) -> None:
        try:
            await job()
        except InboxError as exc:
            log.warning("automated message not sent: %s", exc.message)
        except Exception:
            log.exception("automated message failed")
        finally:
            self._done()

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block (another thread) until no automated send is pending; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    async def send_text(
        self,
        conversation_id: str,
        body: str,
        automation_kind: str,
        message: dict[str, Any] | None = None,
        then: Callable[[Tx, str], None] | None = None,
    ) -> str | None:
        """Send and record one automated message; `then(tx, message_id)` runs in the same
        command as the record (e.g. the `survey_sent` event)."""
        inbox = self.inbox

        def load(tx: Tx) -> tuple[Conversation | None, Any]:
            # The writer thread owns the connection: read through a command, never directly.
            conversation = tx.conversation(conversation_id)
            return conversation, tx.contact(conversation.contact_id) if conversation else None

        conversation, contact = await inbox.store.run(load)
        if conversation is None or contact is None:
            log.warning("automated message for unknown conversation %s", conversation_id)
            return None
        to = contact.wa_id or contact.contact_id
        sent = await inbox.channel.send(conversation.inbox_id, to, message or text_message(body))
        kind = (message or {}).get("type", "text")

        def record(tx: Tx) -> str:
            inbox.record_outbound(
                tx,
                SYSTEM,
                conversation_id,
                sent,
                message_type=kind,
                body=body,
                sender_kind="automation",
                automation_kind=automation_kind,
                template_name=(message or {}).get("template", {}).get("name"),
            )
            if then is not None:
                then(tx, sent.message_id)
            return sent.message_id

        return await inbox.store.run(record)


class Router:
    def __init__(self, inbox: Inbox, sender: AutoSender) -> None:
        self.inbox = inbox
        self.sender = sender
        self.config = inbox.config
        self._agents: dict[str, AgentConfig] = {agent.id: agent for agent in self.config.agents}
        self._shift_calendars: dict[str, BusinessCalendar] = {}
        self._topics = {topic.id: topic for topic in self.config.topics}

    # --- who can take a conversation ----------------------------------------------------
    def on_shift(self, agent_id: str, at: dt.datetime) -> bool:
        agent = self._agents.get(agent_id)
        if agent is None or agent.shifts is None:
            return self.inbox.calendar.is_business(at)
        calendar = self._shift_calendars.get(agent_id)
        if calendar is None:
            shifts = self.inbox.calendar.config.model_copy(update={"hours": agent.shifts})
            calendar = self._shift_calendars[agent_id] = BusinessCalendar(shifts)
        return calendar.is_business(at)

    def available(self, agent_id: str) -> bool:
        agent = self._agents.get(agent_id)
        return agent.available if agent else True

    def candidates(self, tx: Tx) -> list[Candidate]:
        rows = tx.con.execute(
            "select user_id, skills, capacity from users where active and role = 'agent' "
            "order by user_id"
        ).fetchall()
        return [Candidate(user_id, tuple(skills), capacity) for user_id, skills, capacity in rows]

    def pick_agent(
        self, tx: Tx, skill: str, *, exclude: str | None = None, prefer: str | None = None
    ) -> str | None:
        """The eligible agent with the fewest open conversations; ties by agent id."""
        counts = tx.open_counts()
        eligible = [
            (counts.get(c.agent_id, 0), c.agent_id)
            for c in self.candidates(tx)
            if c.agent_id != exclude
            and skill in c.skills
            and self.available(c.agent_id)
            and self.on_shift(c.agent_id, tx.now)
            and counts.get(c.agent_id, 0) < c.capacity
        ]
        if prefer and any(agent_id == prefer for _, agent_id in eligible):
            return prefer
        return min(eligible)[1] if eligible else None

    def skill_for(self, conversation: Conversation) -> str:
        topic = self._topics.get(conversation.topic or "")
        if topic is not None:
            return topic.required_skill
        return conversation.team_id or self.config.default_team or ""

    @staticmethod
    def last_assignment_reason(conversation: Conversation) -> str | None:
        """Reason of the last assignment in the current cycle, or None."""
        assigned_at, opened_at = conversation.last_assignment_at, conversation.cycle_opened_at
        if assigned_at is None or (opened_at is not None and assigned_at < opened_at):
            return None
        return conversation.assignment_reason

    # --- hooks ----------------------------------------------------------------------------
    def on_cycle_opened(
        self, tx: Tx, conversation: Conversation, message: InboundMessage | None
    ) -> None:
        topic = detect_topic(self.config.topics, message)
        if topic is not None:
            self._set_topic(tx, conversation, topic)
        previous = conversation.assignee_id
        agent_id = self.pick_agent(tx, self.skill_for(conversation), prefer=previous)
        if agent_id != previous or topic is not None:
            self.inbox.assign(
                tx,
                ROUTER,
                conversation.conversation_id,
                agent_id,
                None,
                reason="router",
                check=False,
            )
        if message is None or tx.now - message.occurred_at > CUSTOMER_SERVICE_WINDOW:
            return  # an old message (backfill): the window is closed, send nothing
        language = detect_language(message.body, self.config.language)
        current = tx.conversation(conversation.conversation_id)
        if (
            self.config.off_hours.enabled
            and not self.inbox.calendar.is_business(message.occurred_at)
            and current.off_hours_reply_cycle != current.cycle_number
        ):
            current.off_hours_reply_cycle = current.cycle_number
            tx.put_conversation(current)
            text = self.config.off_hours.text.get(language)
            self.sender.schedule(
                tx, lambda: self.sender.send_text(current.conversation_id, text, "off_hours")
            )
        if topic is None and self.config.menu.enabled:
            self._send_menu(tx, current.conversation_id, language)

    def on_inbound(self, tx: Tx, conversation: Conversation, message: InboundMessage) -> None:
        """A menu answer (or a later payload) sets the topic of a cycle that had none."""
        if conversation.status == "resolved" or conversation.topic is not None:
            return
        if not message.interactive_id:
            return
        topic = detect_topic(self.config.topics, message)
        if topic is None:
            return
        self._set_topic(tx, conversation, topic)
        current = tx.conversation(conversation.conversation_id)
        if self.last_assignment_reason(current) not in (None, "router"):
            return  # a person assigned it: manual wins
        agent_id = self.pick_agent(tx, topic.required_skill)
        self.inbox.assign(
            tx, ROUTER, current.conversation_id, agent_id, topic.team, reason="router", check=False
        )

    def _set_topic(self, tx: Tx, conversation: Conversation, topic: TopicConfig) -> None:
        conversation.topic = topic.id
        conversation.team_id = topic.team
        tx.put_conversation(conversation)
        tx.event(
            "topic",
            payload={"topic": topic.id, "team_id": topic.team},
            actor_kind="system",
            actor_id=ROUTER.user_id,
            inbox_id=conversation.inbox_id,
            conversation_id=conversation.conversation_id,
            contact_id=conversation.contact_id,
        )

    def _send_menu(self, tx: Tx, conversation_id: str, language: str) -> None:
        menu = self.config.menu
        rows = [
            (topic.payloads[0], topic.title.get(language))
            for topic in self.config.topics
            if topic.title and topic.payloads
        ]
        body = menu.text.get(language)
        message = interactive_list(body, menu.button.get(language), rows)
        self.sender.schedule(
            tx, lambda: self.sender.send_text(conversation_id, body, "auto_reply", message)
        )


@dataclasses.dataclass(slots=True)
class Automation:
    """What `install` wires: reachable as `inbox.automation` and `app.state.automation`."""

    router: Router
    sender: AutoSender
    surveys: Any


def install(inbox: Inbox) -> Automation:
    """Register routing, off-hours, menu and survey hooks; call inside the running event loop."""
    from inbox_api.surveys import Surveys

    sender = AutoSender(inbox)
    try:
        sender.attach(asyncio.get_running_loop())
    except RuntimeError:
        log.warning("routing installed without an event loop: automated messages are off")
    router = Router(inbox, sender)
    surveys = Surveys(inbox, sender)
    inbox.on_cycle_opened.append(router.on_cycle_opened)
    inbox.on_inbound.append(router.on_inbound)
    surveys.install()
    automation = Automation(router, sender, surveys)
    inbox.automation = automation
    return automation
