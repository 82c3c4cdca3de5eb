"""Live mode: customers as signed WhatsApp webhooks, agents as REST clients, in scaled real time.

Customers follow the simulator's plan for the coming window (their messages, at their times,
divided by `speed`). Agents react to what the API actually does: they poll their queue, answer
after a delay drawn from their speed and the topic, take unassigned conversations from their
team's queue, add notes, tags and leads, and resolve after a few replies. Now and then an agent
steps away, so the API's SLA engine raises alerts and reassigns. Only a loopback API is allowed:
this drives a local demo, never a real number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from ingest.config import BusinessConfig
from ingest.simulator.profile import TOPICS, Profile
from ingest.simulator.traffic import AGENT_REPLIES, INBOX_ID, NOTES, build_agents, generate

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TICK_SECONDS = 1.0


# The owner a refusal names: "(assigned to <agent id or nobody>, team <team id>)".
_REFUSAL_OWNER = re.compile(r"\(assigned to ([^,]+), team ([^)]+)\)")


@dataclass
class LiveStats:
    webhooks: int = 0
    replies: int = 0
    pickups: int = 0
    resolutions: int = 0
    notes: int = 0
    tags: int = 0
    leads: int = 0
    # Acts refused because the conversation moved to another agent (the SLA engine's 20-minute
    # reassignment) or to another team's queue (a handoff, topic routing) between the agent's
    # last look at the queue and the act: a real race, as for a person working from a list, not
    # a failure.
    lost_to_reassignment: int = 0
    errors: list[str] = field(default_factory=list)

    def format(self) -> str:
        text = (
            f"live: {self.webhooks} customer messages sent as webhooks; agents sent "
            f"{self.replies} replies, took {self.pickups} from queues, resolved "
            f"{self.resolutions}, wrote {self.notes} notes, {self.tags} tags, {self.leads} leads; "
            f"{self.lost_to_reassignment} acts came after a reassignment to another agent or team"
        )
        if self.errors:
            text += f"\n{len(self.errors)} request(s) failed; first: {self.errors[0]}"
        return text


@dataclass
class _Work:
    """An agent's plan for one waiting conversation."""

    waiting_since: str
    due: float
    replies: int = 0
    replied_at: float | None = None
    close_after: float = 0.0


@dataclass
class _LiveAgent:
    id: str
    name: str
    teams: list[str]
    skills: list[str]
    speed: float
    token: str = ""
    away_until: float = 0.0
    work: dict[str, _Work] = field(default_factory=dict)
    turns: dict[str, int] = field(default_factory=dict)


def require_loopback(api_url: str) -> None:
    host = urlsplit(api_url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"live mode only drives a local API (loopback); {host!r} is not one")


def sign(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(event: dict[str, Any], wamid: str, now: float) -> bytes:
    """A Meta-format webhook for one planned inbound customer message."""
    payload = event["payload"]
    contact_id = event["contact_id"]
    wa_id = "".join(ch for ch in contact_id if ch.isdigit())[-12:]
    message: dict[str, Any] = {"from": wa_id, "id": wamid, "timestamp": str(int(now))}
    kind = payload["message_type"]
    if kind == "interactive":
        message["type"] = "interactive"
        message["interactive"] = {
            "type": "list_reply",
            "list_reply": {"id": payload["interactive_id"], "title": payload["body"] or ""},
        }
    elif kind == "button":
        message["type"] = "button"
        message["button"] = {"payload": payload["interactive_id"], "text": payload["body"]}
    elif kind in ("image", "audio", "document"):
        mime = {"image": "image/jpeg", "audio": "audio/ogg", "document": "application/pdf"}[kind]
        message["type"] = kind
        message[kind] = {"id": f"media.{wamid}", "mime_type": mime, "sha256": "0" * 64}
    elif kind == "location":
        message["type"] = "location"
        message["location"] = {"latitude": 19.4326, "longitude": -99.1332}
    else:
        message["type"] = "text"
        message["text"] = {"body": payload["body"] or "Hola"}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5215550000000", "phone_number_id": INBOX_ID},
        "contacts": [{"profile": {"name": "Cliente"}, "wa_id": wa_id, "user_id": contact_id}],
        "messages": [message],
    }
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "109876543210987", "changes": [{"field": "messages", "value": value}]}],
    }
    return orjson.dumps(envelope)


class LivePlayer:
    """One live run; `step()` does whatever is due at the current clock reading."""

    def __init__(
        self,
        config: BusinessConfig,
        client: httpx.Client,
        admin_token: str,
        app_secret: str,
        agents: int,
        seed: int,
        speed: float,
        minutes: float,
        clock: Callable[[], float] = time.monotonic,
        start: dt.datetime | None = None,
    ) -> None:
        if speed <= 0 or minutes <= 0:
            raise ValueError("speed and minutes must be positive")
        self.config = config
        self.client = client
        self.admin_token = admin_token
        self.app_secret = app_secret
        self.speed = speed
        self.clock = clock
        self.rng = random.Random(seed)
        self.profile = Profile()
        self.stats = LiveStats()
        self.started = clock()
        self.deadline = self.started + minutes * 60
        sim_start = start or dt.datetime.now(dt.UTC)
        window_days = minutes * 60 * speed / 86400
        plan = generate(
            config, window_days, agents, seed, sim_start + dt.timedelta(days=window_days)
        )
        begin = sim_start.timestamp()
        # Only what customers say is replayed; everything else is the API's and the agents' job.
        self.queue = [
            ((dt.datetime.fromisoformat(e["occurred_at"]).timestamp() - begin) / speed, e)
            for e in plan
            if e["event_type"] == "message" and e["payload"]["sender_kind"] == "customer"
        ]
        self.queue.sort(key=lambda item: item[0])
        self.next_message = 0
        self.run_tag = f"{seed}.{int(sim_start.timestamp())}"
        self.agents = [
            _LiveAgent(
                a.id,
                a.name,
                list(a.teams),
                list(a.skills or a.teams),
                self.rng.uniform(*self.profile.agent_speed),
            )
            for a in build_agents(config, agents)
        ]

    # -- setup -----------------------------------------------------------------------------
    def _admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def ensure_agents(self) -> None:
        """A token per simulated agent: created, or rotated when the user already has one."""
        for agent in self.agents:
            response = self.client.post(
                "/v1/users",
                json={
                    "id": agent.id,
                    "name": agent.name,
                    "role": "agent",
                    "teams": agent.teams,
                    "skills": agent.skills,
                },
                headers=self._admin(),
            )
            if response.status_code == 409:
                response = self.client.post(f"/v1/users/{agent.id}/token", headers=self._admin())
            if response.status_code not in (200, 201):
                raise RuntimeError(
                    f"cannot get a token for agent {agent.id!r}: HTTP {response.status_code} "
                    f"{response.text[:200]}"
                )
            agent.token = response.json()["token"]

    # -- the loop --------------------------------------------------------------------------
    def run(self, sleep: Callable[[float], None] = time.sleep) -> LiveStats:
        self.ensure_agents()
        while True:
            self.step()
            if self.clock() >= self.deadline:
                return self.stats
            sleep(TICK_SECONDS)

    def step(self) -> None:
        elapsed = self.clock() - self.started
        while self.next_message < len(self.queue) and self.queue[self.next_message][0] <= elapsed:
            self._send_customer(self.queue[self.next_message][1])
            self.next_message += 1
        for agent in self.agents:
            self._play(agent)

    def _send_customer(self, event: dict[str, Any]) -> None:
        wamid = f"{event['payload']['message_id']}.{self.run_tag}"
        body = webhook_body(event, wamid, time.time())
        response = self.client.post(
            "/webhooks/whatsapp",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(body, self.app_secret),
            },
        )
        if self._ok(response, "webhook"):
            self.stats.webhooks += 1

    def _ok(self, response: httpx.Response, what: str, agent: _LiveAgent | None = None) -> bool:
        if response.status_code < 300:
            return True
        if agent is not None and self._reassigned_away(response, agent):
            self.stats.lost_to_reassignment += 1
            return False
        if len(self.stats.errors) < 50:
            self.stats.errors.append(f"{what}: HTTP {response.status_code} {response.text[:200]}")
        return False

    @staticmethod
    def _reassigned_away(response: httpx.Response, agent: _LiveAgent) -> bool:
        """The API refused the agent because the conversation is now another agent's, or moved
        to the queue of a team the agent is not in (a handoff or topic routing in between)."""
        if response.status_code != 403 or "may not act on conversation" not in response.text:
            return False
        match = _REFUSAL_OWNER.search(response.text)
        if match is None:
            return False
        assignee, team = match.group(1), match.group(2)
        if assignee == "nobody":
            return team not in agent.teams
        return assignee != agent.id

    def _delay(self, agent: _LiveAgent, topic: str | None, first: bool) -> float:
        """Wall seconds until the agent answers (simulated seconds divided by the speed)."""
        median = (
            self.profile.first_reply_median_seconds
            if first
            else TOPICS.get(topic or "", TOPICS["after_sales"]).handle_median_seconds
        )
        return median * agent.speed * math.exp(self.rng.gauss(0, 0.75)) / self.speed

    def _play(self, agent: _LiveAgent) -> None:
        now = self.clock()
        if now < agent.away_until:
            return
        if self.rng.random() < 0.002 * self.speed:
            # Stepping away (a call, a meeting): long enough for the SLA engine to act.
            agent.away_until = now + self.rng.uniform(900, 2400) / self.speed
            return
        headers = {"Authorization": f"Bearer {agent.token}"}
        response = self.client.get(
            "/v1/conversations", params={"waiting": "true", "limit": 50}, headers=headers
        )
        if not self._ok(response, "list conversations"):
            return
        items = response.json().get("items", [])
        waiting = {item["conversation_id"] for item in items}
        for conversation_id, work in list(agent.work.items()):
            # The customer went quiet after the last answer: close the cycle.
            if (
                conversation_id not in waiting
                and work.replied_at is not None
                and now - work.replied_at >= work.close_after
            ):
                self._resolve(agent, conversation_id, headers)
        for item in items:
            conversation_id = item["conversation_id"]
            waiting_since = item.get("waiting_since") or ""
            work = agent.work.get(conversation_id)
            if work is None or work.waiting_since != waiting_since:
                replies = work.replies if work else 0
                agent.work[conversation_id] = work = _Work(
                    waiting_since,
                    now + self._delay(agent, item.get("topic"), replies == 0),
                    replies,
                )
            if now < work.due:
                continue
            if item.get("assignee_id") is None:
                self._pick_up(agent, conversation_id, headers)
            elif item.get("assignee_id") == agent.id:
                self._answer(agent, item, work, headers)

    def _pick_up(self, agent: _LiveAgent, conversation_id: str, headers: dict[str, str]) -> None:
        response = self.client.post(
            f"/v1/conversations/{conversation_id}/assignment",
            json={"agent_id": agent.id},
            headers=headers,
        )
        if self._ok(response, "pick up", agent):
            self.stats.pickups += 1

    def _answer(
        self, agent: _LiveAgent, item: dict[str, Any], work: _Work, headers: dict[str, str]
    ) -> None:
        conversation_id = item["conversation_id"]
        path = f"/v1/conversations/{conversation_id}"
        topic = item.get("topic")
        if item.get("window_open", True):
            body: dict[str, Any] = {"text": self.rng.choice(AGENT_REPLIES)}
        else:
            body = {"template": {"name": "seguimiento_atencion", "language": "es", "variables": []}}
        response = self.client.post(f"{path}/messages", json=body, headers=headers)
        if not self._ok(response, "reply", agent):
            agent.work.pop(conversation_id, None)
            return
        self.stats.replies += 1
        work.replies += 1
        work.replied_at = self.clock()
        work.close_after = 600 * math.exp(self.rng.gauss(0, 0.6)) / self.speed
        turns = agent.turns.setdefault(
            conversation_id, self.rng.randint(*TOPICS.get(topic or "", TOPICS["billing"]).turns)
        )
        p = self.profile
        if self.rng.random() < p.note_probability / 2:
            note = {"body": self.rng.choice(NOTES)}
            response = self.client.post(f"{path}/notes", json=note, headers=headers)
            if self._ok(response, "note", agent):
                self.stats.notes += 1
        # An agent adds a tag the conversation does not have yet (the API refuses a repeat: 409).
        new_tags = (
            [t for t in TOPICS[topic].tags if t not in item.get("tags", [])]
            if topic in TOPICS
            else []
        )
        if new_tags and self.rng.random() < p.tag_probability / 2:
            tag = {"tag": self.rng.choice(new_tags)}
            response = self.client.post(f"{path}/tags", json=tag, headers=headers)
            if self._ok(response, "tag", agent):
                self.stats.tags += 1
        wants_lead = topic == "sales_lead" and work.replies == 1
        if wants_lead and self.rng.random() < p.lead_probability:
            response = self.client.post(f"{path}/lead", json={}, headers=headers)
            if self._ok(response, "lead", agent):
                self.stats.leads += 1
        if work.replies >= turns:
            self._resolve(agent, conversation_id, headers)

    def _resolve(self, agent: _LiveAgent, conversation_id: str, headers: dict[str, str]) -> None:
        response = self.client.post(
            f"/v1/conversations/{conversation_id}/status",
            json={"status": "resolved"},
            headers=headers,
        )
        agent.work.pop(conversation_id, None)
        agent.turns.pop(conversation_id, None)
        if self._ok(response, "resolve", agent):
            self.stats.resolutions += 1


def run_live(
    config: BusinessConfig,
    api_url: str,
    admin_token: str,
    app_secret: str,
    agents: int,
    seed: int,
    speed: float,
    minutes: float,
) -> LiveStats:
    """Play customers and agents against the API at `api_url` for `minutes` wall minutes."""
    require_loopback(api_url)
    with httpx.Client(base_url=api_url, timeout=30.0) as client:
        player = LivePlayer(config, client, admin_token, app_secret, agents, seed, speed, minutes)
        return player.run()
