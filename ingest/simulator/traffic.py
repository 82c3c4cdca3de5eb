"""Deterministic WhatsApp traffic for one business: every event of docs/events.md, in order.

Cycles are played one at a time in arrival order; each is followed to its end (replies, SLA
escalations, resolution, survey) before the next arrives, with agent load and shifts carried
between them. All randomness comes from one seeded generator, so a seed names one data set.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from ingest.calendar import WEEKDAYS, BusinessCalendar, _parse_interval
from ingest.config import AgentConfig, BusinessConfig
from ingest.simulator.profile import (
    HOLIDAY_FACTOR,
    MENU_PAYLOADS,
    RESTDAY_HOURLY,
    SHIFTS,
    TOPICS,
    WEEKDAY_FACTOR,
    WEEKDAY_HOURLY,
    Profile,
)

INBOX_ID = "114477889900112"
# Reassignments one wait may go through before its last holder answers.
_MAX_ESCALATIONS = 3
BOT_ID = "triage-bot"
UTC = dt.UTC

FIRST_NAMES = (
    "María", "José", "Guadalupe", "Juan", "Fernanda", "Luis", "Ximena", "Carlos", "Valeria",
    "Miguel", "Daniela", "Jorge", "Sofía", "Alejandro", "Camila", "Ricardo", "Paola", "Andrés",
)  # fmt: skip
LAST_NAMES = (
    "García", "Hernández", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez",
    "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez",
)  # fmt: skip
GREETINGS = ("Hola", "Buenas tardes", "Buen día", "Hola, buenas", "Qué tal")
THANKS = ("¡Gracias!", "Muchas gracias 🙏", "ok gracias", "Perfecto, gracias", "👍 gracias")
REOPENERS = (
    "Hola de nuevo, sigue sin resolverse",
    "Perdón, me quedó una duda",
    "Oigan, siempre no funcionó",
    "Una pregunta más sobre lo mismo",
)
FOLLOWUPS = ("ok", "¿Y cuánto tarda?", "Va, les mando la foto", "¿Me confirma por favor?", "Sí")
AGENT_REPLIES = (
    "Con gusto te ayudo, ¿me compartes tu número de pedido?",
    "Ya lo reviso, dame un momento por favor",
    "Listo, quedó registrado",
    "Te comparto la información por este medio",
    "¿Hay algo más en lo que te pueda ayudar?",
)
NOTES = (
    "Cliente frecuente, revisar historial de compras",
    "Pedí a almacén que confirme existencias",
    "Escalado con el proveedor por garantía",
    "Prometí llamada mañana temprano",
)


class _Intervals:
    """Sorted half-open [open, close) epoch intervals with fast membership and clock arithmetic."""

    def __init__(self, intervals: list[tuple[float, float]]) -> None:
        self.intervals = sorted(intervals)
        self.opens = [start for start, _ in self.intervals]

    def contains(self, t: float) -> bool:
        i = bisect.bisect_right(self.opens, t) - 1
        return i >= 0 and t < self.intervals[i][1]

    def next_open(self, t: float) -> float:
        """t itself when inside an interval, else the next opening (inf past the horizon)."""
        if self.contains(t):
            return t
        i = bisect.bisect_right(self.opens, t)
        return self.opens[i] if i < len(self.opens) else math.inf

    def add(self, t: float, seconds: float) -> float:
        """add_bsec over these intervals (the SLA engine's business clock)."""
        remaining = seconds
        i = max(0, bisect.bisect_right(self.opens, t) - 1)
        for start_at, close_at in self.intervals[i:]:
            start = max(t, start_at)
            if start >= close_at:
                continue
            if remaining <= close_at - start:
                return start + remaining
            remaining -= close_at - start
        return math.inf


@dataclass
class _Agent:
    id: str
    name: str
    role: str
    teams: list[str]
    skills: list[str]
    capacity: int
    speed: float
    shifts: _Intervals
    slow: list[tuple[float, float, float]] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)

    def load(self, t: float) -> int:
        return sum(1 for end in self.ends if end > t)

    def slowness(self, t: float) -> float:
        return next((factor for start, end, factor in self.slow if start <= t < end), 1.0)


@dataclass
class _Contact:
    id: str
    wa_id: str | None
    name: str
    conversation_id: str
    status: str | None = None
    assignee: str | None = None
    busy_until: float = -math.inf
    last_inbound: float = -math.inf
    topic: str | None = None


@dataclass
class _Cycle:
    """What one cycle touched, so its end can be booked on every agent that held it."""

    agents: set[str] = field(default_factory=set)
    assigned_at: float = 0.0
    escalated: bool = False


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


def build_agents(config: BusinessConfig, agents: int) -> list[AgentConfig]:
    """The first `agents` chat agents of the config, cloned in turn when more are asked for."""
    if agents < 1:
        raise ValueError("agents must be at least 1")
    templates = [agent for agent in config.agents if agent.role == "agent"]
    if not templates:
        raise ValueError("the config has no agents with role 'agent' to simulate")
    result = []
    for i in range(agents):
        template = templates[i % len(templates)]
        copy = i // len(templates)
        if copy == 0:
            result.append(template)
        else:
            result.append(
                template.model_copy(
                    update={"id": f"{template.id}{copy + 1}", "name": f"{template.name} {copy + 1}"}
                )
            )
    return result


class _Simulation:
    def __init__(
        self,
        config: BusinessConfig,
        days: float,
        agents: int,
        seed: int,
        end: dt.datetime,
        profile: Profile,
    ) -> None:
        if days <= 0:
            raise ValueError("days must be positive")
        if end.tzinfo is None:
            raise ValueError("end must be an aware datetime")
        self.config = config
        self.profile = profile
        self.seed = seed
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.calendar: BusinessCalendar = config.business_calendar()
        self.tz = ZoneInfo(config.calendar.timezone)
        self.end = end.timestamp()
        self.start = self.end - days * 86400
        first = self._local(self.start).date() - dt.timedelta(days=1)
        # The horizon runs past `end` so waits near the end still find the next opening.
        last = self._local(self.end).date() + dt.timedelta(days=10)
        self.days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        self.clock = _Intervals(
            [(o.timestamp(), c.timestamp()) for _, o, c in self.calendar.intervals(first, last)]
        )
        self.topic_team = {topic.id: topic.team for topic in config.topics}
        for topic in TOPICS:
            self.topic_team.setdefault(topic, config.default_team or config.teams[0].id)
        self.team_names = {team.id: team.name for team in config.teams}
        self.agents = [self._agent(i, a) for i, a in enumerate(build_agents(config, agents))]
        self.agent_by_id = {agent.id: agent for agent in self.agents}
        self.contacts: list[_Contact] = []
        self.events: list[tuple[float, int, str, _Contact | None, str, str | None, dict]] = []
        self.n = 0
        self.arrivals: list[tuple[float, int, str, _Contact | None]] = []

    # -- time helpers ----------------------------------------------------------------------
    def _local(self, t: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(t, self.tz)

    def _at(self, day: dt.date, hour: float) -> float:
        """The instant of a local wall-clock hour (0-24, fractions allowed) on a local date."""
        if hour >= 24:
            return self._at(day + dt.timedelta(days=1), hour - 24)
        minutes = round(hour * 60)
        moment = dt.time(minutes // 60, minutes % 60)
        return dt.datetime.combine(day, moment, self.tz).timestamp()

    def _lognormal(self, median: float, sigma: float = 0.8) -> float:
        return median * math.exp(self.rng.gauss(0.0, sigma))

    # -- setup -----------------------------------------------------------------------------
    def _shift_pattern(self, index: int, cfg: AgentConfig) -> list[tuple[int, float, float]]:
        """(weekday, start hour, end hour): the agent's configured shifts, else a rotation."""
        if cfg.shifts is not None:
            pattern = []
            for day, texts in cfg.shifts.items():
                for text in texts:
                    start, end = _parse_interval(text)
                    end_hour = 24.0 if end == dt.time(0) else end.hour + end.minute / 60
                    pattern.append((WEEKDAYS.index(day), start.hour + start.minute / 60, end_hour))
            return pattern
        return [
            (weekday, start_hour, end_hour)
            for weekdays, start_hour, end_hour in SHIFTS[index % len(SHIFTS)]
            for weekday in weekdays
        ]

    def _agent(self, index: int, cfg: AgentConfig) -> _Agent:
        pattern = self._shift_pattern(index, cfg)
        intervals = []
        slow = []
        for day in self.days:
            if self.calendar.is_holiday(day):
                continue
            for weekday, start_hour, end_hour in pattern:
                if day.weekday() == weekday:
                    open_at, close_at = self._at(day, start_hour), self._at(day, end_hour)
                    intervals.append((open_at, close_at))
                    if self.rng.random() < self.profile.slow_period_probability:
                        begin = self.rng.uniform(open_at + 3600, close_at - 7200)
                        slow.append(
                            (
                                begin,
                                begin + self.rng.uniform(2700, 7200),
                                self.rng.uniform(*self.profile.slow_factor),
                            )
                        )
        return _Agent(
            id=cfg.id,
            name=cfg.name,
            role=cfg.role,
            teams=list(cfg.teams),
            skills=list(cfg.skills or cfg.teams),
            capacity=cfg.capacity,
            speed=self.rng.uniform(*self.profile.agent_speed),
            shifts=_Intervals(intervals),
            slow=slow,
        )

    def _schedule_arrivals(self) -> None:
        base = self.profile.cycles_per_agent_day * len(self.agents)
        for day in self.days:
            if self.calendar.is_holiday(day):
                weights, factor = RESTDAY_HOURLY, HOLIDAY_FACTOR
            elif day.weekday() >= 5:
                weights, factor = RESTDAY_HOURLY, WEEKDAY_FACTOR[day.weekday()]
            else:
                weights, factor = WEEKDAY_HOURLY, WEEKDAY_FACTOR[day.weekday()]
            total = sum(weights)
            for hour, weight in enumerate(weights):
                count = int(self.np_rng.poisson(base * factor * weight / total))
                start = self._at(day, hour)
                for _ in range(count):
                    t = start + self.rng.uniform(0, 3600)
                    if self.start <= t < self.end:
                        self._arrive(t, "new", None)

    def _arrive(self, t: float, kind: str, contact: _Contact | None) -> None:
        heapq.heappush(self.arrivals, (t, self.n, kind, contact))
        self.n += 1

    # -- emission --------------------------------------------------------------------------
    def _emit(
        self,
        t: float,
        event_type: str,
        contact: _Contact | None,
        actor_kind: str,
        actor_id: str | None,
        payload: dict[str, Any],
    ) -> None:
        self.events.append(
            (round(t, 3), self.n, event_type, contact, actor_kind, actor_id, payload)
        )
        self.n += 1

    def _message(
        self,
        t: float,
        c: _Contact,
        sender: str,
        actor_id: str | None,
        body: str | None,
        *,
        message_type: str = "text",
        automation_kind: str | None = None,
        interactive_id: str | None = None,
        template_name: str | None = None,
    ) -> str:
        inbound = sender == "customer"
        message_id = f"wamid.SIM{self.seed}{'I' if inbound else 'O'}{self.n:010d}"
        payload = {
            "message_id": message_id,
            "direction": "inbound" if inbound else "outbound",
            "sender_kind": sender,
            "message_type": message_type,
            "automation_kind": automation_kind,
            "template_name": template_name,
            "body": body,
            "reply_to_message_id": None,
            "interactive_id": interactive_id,
        }
        self._emit(t, "message", c, sender, actor_id, payload)
        if inbound:
            c.last_inbound = t
        else:
            self._statuses(t, c, message_id, template_name is not None)
        return message_id

    def _statuses(self, t: float, c: _Contact, message_id: str, template: bool) -> None:
        pricing = ("regular", "utility") if template else ("free_customer_service", "service")
        self._emit(
            t + self.rng.uniform(0.3, 1.5),
            "message_status",
            c,
            "system",
            None,
            {
                "message_id": message_id,
                "status": "sent",
                "pricing_type": pricing[0],
                "pricing_category": pricing[1],
            },
        )
        roll = self.rng.random()
        if roll < 0.01:
            self._emit(
                t + self.rng.uniform(2, 10),
                "message_status",
                c,
                "system",
                None,
                {
                    "message_id": message_id,
                    "status": "failed",
                    "error_code": "131026",
                    "error_title": "Message undeliverable",
                },
            )
            return
        delivered = t + self.rng.uniform(2, 8)
        self._emit(
            delivered,
            "message_status",
            c,
            "system",
            None,
            {"message_id": message_id, "status": "delivered"},
        )
        if roll < 0.78:
            self._emit(
                delivered + self._lognormal(60, 1.2),
                "message_status",
                c,
                "system",
                None,
                {"message_id": message_id, "status": "read"},
            )

    def _status(
        self,
        t: float,
        c: _Contact,
        status: str,
        actor_kind: str,
        actor_id: str | None,
        resolution_kind: str | None = None,
    ) -> None:
        payload: dict[str, Any] = {"status": status, "previous_status": c.status}
        if status == "resolved":
            payload["resolution_kind"] = resolution_kind
        self._emit(t, "status_change", c, actor_kind, actor_id, payload)
        c.status = status

    def _assign(
        self,
        t: float,
        c: _Contact,
        agent: _Agent | None,
        team: str,
        reason: str,
        cycle: _Cycle,
        actor: _Agent | None = None,
    ) -> None:
        self._emit(
            t,
            "assignment",
            c,
            "agent" if actor else "system",
            actor.id if actor else None,
            {
                "agent_id": agent.id if agent else None,
                "team_id": team,
                "previous_agent_id": c.assignee,
                "reason": reason,
            },
        )
        c.assignee = agent.id if agent else None
        cycle.assigned_at = t
        if agent:
            cycle.agents.add(agent.id)

    # -- routing and waiting ---------------------------------------------------------------
    def _candidates(self, t: float, team: str, exclude: str | None) -> list[_Agent]:
        on_shift = [a for a in self.agents if a.id != exclude and a.shifts.contains(t)]
        skilled = [a for a in on_shift if team in a.skills]
        return skilled or [a for a in on_shift if team in a.teams]

    def _route(
        self, t: float, team: str, prefer: str | None = None, exclude: str | None = None
    ) -> _Agent | None:
        candidates = self._candidates(t, team, exclude)
        if not candidates:
            return None
        preferred = self.agent_by_id.get(prefer or "")
        if preferred in candidates and preferred.load(t) < preferred.capacity:
            return preferred
        return min(candidates, key=lambda a: (a.load(t) / a.capacity, self.rng.random()))

    def _pickup(self, t: float, team: str) -> tuple[float, _Agent | None]:
        """When and by whom a conversation waiting in the team queue is taken."""
        pool = (
            [a for a in self.agents if team in a.skills]
            or [a for a in self.agents if team in a.teams]
            or self.agents
        )
        best = min(a.shifts.next_open(t) for a in pool)
        if math.isinf(best):
            return best, None
        at = best + self._lognormal(40, 0.6)
        return at, self._route(at, team) or min(pool, key=lambda a: a.shifts.next_open(t))

    def _reply_delay(self, agent: _Agent, since: float, median: float) -> float:
        load_factor = 1.0 + max(0.0, agent.load(since) / agent.capacity - 0.5)
        t = since + self._lognormal(
            median * agent.speed * load_factor * agent.slowness(since), 0.75
        )
        if not agent.shifts.contains(t):
            t = agent.shifts.next_open(t) + self._lognormal(90, 0.6)
        return t

    def _await_reply(
        self,
        c: _Contact,
        since: float,
        agent: _Agent | None,
        team: str,
        median: float,
        cycle: _Cycle,
    ) -> tuple[float, _Agent | None]:
        """The reply time and replying agent, with the SLA engine's alerts and reassignments."""
        sla = self.config.sla
        alerted = False
        for attempt in range(_MAX_ESCALATIONS + 1):
            wait_start = max(since, cycle.assigned_at)
            if agent is None:
                pick_at, picker = self._pickup(wait_start, team)
                alert_at = self.clock.add(wait_start, sla.alert_after_seconds)
                if alert_at < pick_at and not alerted:
                    self._escalate(alert_at, c, "alert", wait_start, None, None, team, cycle)
                    alerted = True
                if picker is None:
                    return math.inf, None
                self._assign(pick_at, c, picker, team, "router", cycle)
                agent = picker
                continue
            reply_at = self._reply_delay(agent, wait_start, median)
            alert_at = self.clock.add(wait_start, sla.alert_after_seconds)
            # After a few rounds the last holder answers, so no cycle is stuck forever.
            if reply_at <= alert_at or attempt == _MAX_ESCALATIONS:
                return reply_at, agent
            if not alerted:
                self._escalate(alert_at, c, "alert", wait_start, agent, None, team, cycle)
                alerted = True
            reassign_at = self.clock.add(wait_start, sla.reassign_after_seconds)
            if reply_at <= reassign_at:
                return reply_at, agent
            new = self._route(reassign_at, team, exclude=agent.id)
            self._escalate(reassign_at, c, "reassign", wait_start, agent, new, team, cycle)
            self._assign(reassign_at + 0.001, c, new, team, "sla", cycle)
            agent, alerted = new, False
        if agent is None:
            return math.inf, None
        return self._reply_delay(agent, max(since, cycle.assigned_at), median), agent

    def _escalate(
        self,
        t: float,
        c: _Contact,
        level: str,
        waiting_since: float,
        agent: _Agent | None,
        to_agent: _Agent | None,
        team: str,
        cycle: _Cycle,
    ) -> None:
        payload = {
            "level": level,
            "waiting_since": _iso(waiting_since),
            "agent_id": agent.id if agent else None,
            "team_id": team,
        }
        if level == "reassign":
            payload["to_agent_id"] = to_agent.id if to_agent else None
        self._emit(t, "escalation", c, "sla", None, payload)
        cycle.escalated = True

    # -- contacts and cycles ---------------------------------------------------------------
    def _new_contact(self, t: float) -> _Contact:
        number = self.rng.randrange(10**9, 10**10)
        wa_id = f"521{number}" if self.rng.random() > 0.05 else None
        bsuid = f"MX.{self.rng.randrange(10**17, 10**18)}"
        name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
        contact = _Contact(bsuid, wa_id, name, f"{INBOX_ID}:{bsuid}")
        self.contacts.append(contact)
        self._emit(
            t,
            "contact",
            contact,
            "system",
            None,
            {"contact_id": bsuid, "wa_id": wa_id, "bsuid": bsuid, "profile_name": name},
        )
        return contact

    def _pick_contact(self, t: float) -> _Contact:
        if self.contacts and self.rng.random() < self.profile.returning_contact_share:
            for _ in range(4):
                candidate = self.rng.choice(self.contacts)
                if candidate.busy_until <= t:
                    return candidate
        return self._new_contact(t)

    def _choose_topic(self) -> str:
        topics = list(TOPICS)
        return self.rng.choices(topics, weights=[TOPICS[t].weight for t in topics])[0]

    def _cycle(self, c: _Contact, t0: float, kind: str) -> None:
        p = self.profile
        followup = kind in ("reopen", "thanks")
        topic = c.topic if followup and c.topic else self._choose_topic()
        c.topic = topic
        team = self.topic_team[topic]
        cycle = _Cycle()
        c.busy_until = math.inf
        bot = not followup and self.rng.random() < p.bot_share
        if kind == "thanks":
            body = self.rng.choice(THANKS)
        elif kind == "reopen":
            body = self.rng.choice(REOPENERS)
        else:
            body = f"{self.rng.choice(GREETINGS)}. {self.rng.choice(TOPICS[topic].bodies)}"
        self._message(t0, c, "customer", None, body)
        self._status(t0 + 0.05, c, "pending" if bot else "open", "system", None)
        t = t0
        if kind != "thanks":
            for _ in range(self.rng.randrange(0, p.customer_burst_max)):
                # Bursts are quick: the customer types on while waiting for the first answer.
                t += min(self._lognormal(20, 0.7), 45.0)
                kind_of = self.rng.choices(
                    ("text", "image", "audio", "document", "location"), (75, 12, 8, 4, 1)
                )[0]
                self._message(
                    t,
                    c,
                    "customer",
                    None,
                    self.rng.choice(TOPICS[topic].bodies) if kind_of == "text" else None,
                    message_type=kind_of,
                )
        if bot:
            clock_start = self._bot(c, t0, t, topic, team, cycle)
            if clock_start is None:
                return
        else:
            self._emit(t0 + 0.5, "topic", c, "system", None, {"topic": topic, "team_id": team})
            clock_start = t0
        if not self.clock.contains(clock_start):
            self._message(
                clock_start + 1.5,
                c,
                "automation",
                None,
                "Gracias por escribirnos. Nuestro horario es de lunes a viernes de 9 a 18 h; "
                "te responderemos en cuanto abramos.",
                automation_kind="off_hours",
            )
        self._human(c, kind, clock_start, max(t, clock_start), topic, team, cycle)

    def _bot(
        self, c: _Contact, t0: float, last: float, topic: str, team: str, cycle: _Cycle
    ) -> float | None:
        """The triage bot; returns the handoff time, or None when the bot closed the cycle."""
        p = self.profile
        menu_at = t0 + self.rng.uniform(1, 3)
        self._message(
            menu_at,
            c,
            "bot",
            BOT_ID,
            "¡Hola! Soy el asistente virtual. Elige una opción: Ventas, Soporte, Facturación, "
            "Envíos",
            message_type="interactive",
        )
        if self.rng.random() < p.bot_abandon_share:
            self._resolve(menu_at + p.inactivity_seconds, c, "auto_inactivity", None, cycle)
            return None
        tap = max(menu_at, last) + self._lognormal(25, 0.7)
        self._message(
            tap,
            c,
            "customer",
            None,
            self.team_names.get(team, team),
            message_type="interactive",
            interactive_id=MENU_PAYLOADS[topic],
        )
        self._emit(tap + 0.5, "topic", c, "bot", BOT_ID, {"topic": topic, "team_id": team})
        if self.rng.random() < p.bot_resolve_share:
            answer_at = tap + self.rng.uniform(1, 3)
            self._message(answer_at, c, "bot", BOT_ID, TOPICS[topic].bot_answer)
            self._resolve(answer_at + self._lognormal(90, 0.6), c, "bot", None, cycle)
            return None
        handoff_at = tap + self.rng.uniform(1.5, 3)
        self._emit(handoff_at, "handoff", c, "bot", BOT_ID, {"team_id": team})
        self._status(handoff_at + 0.05, c, "open", "system", None)
        return handoff_at

    def _human(
        self,
        c: _Contact,
        kind: str,
        clock_start: float,
        last_customer: float,
        topic: str,
        team: str,
        cycle: _Cycle,
    ) -> None:
        p = self.profile
        profile = TOPICS[topic]
        prefer = c.assignee if kind in ("reopen", "thanks") else None
        agent = self._route(clock_start + 2, team, prefer=prefer)
        self._assign(clock_start + 2, c, agent, team, "router", cycle)
        if kind == "thanks" and self.rng.random() > p.thanks_answered_probability:
            closer = agent or self._pickup(clock_start, team)[1]
            done = self._reply_delay(closer, clock_start, 60) if closer else math.inf
            self._resolve(done, c, "agent", closer, cycle, survey=False)
            return
        waiting_since = clock_start
        t, agent = self._await_reply(
            c, waiting_since, agent, team, p.first_reply_median_seconds, cycle
        )
        if agent is None or t >= self.end:
            self._finish(c, cycle, math.inf)
            return
        # The agent reads the whole burst before answering.
        t = max(t, last_customer + self.rng.uniform(5, 30))
        if kind == "thanks":
            self._reply(t, c, agent, "¡Con gusto! Que tengas excelente día")
            self._resolve(t + self.rng.uniform(5, 90), c, "agent", agent, cycle, survey=False)
            return
        turns = self.rng.randint(*profile.turns)
        extras = self._plan_extras(topic, turns)
        for turn in range(turns):
            self._reply(t, c, agent, self.rng.choice(AGENT_REPLIES))
            for extra in extras.get(turn, ()):
                t, agent, topic, team = self._extra(extra, t, c, agent, topic, team, cycle)
            if turn == turns - 1:
                break
            if self.rng.random() < p.pending_probability:
                t += self.rng.uniform(2, 20)
                self._status(t, c, "pending", "agent", agent.id)
            gap = self._lognormal(150, 1.0)
            if self.rng.random() < p.customer_silence_probability:
                gap = self.rng.uniform(3600, 30 * 3600)
            if gap >= p.inactivity_seconds:
                # Silent past the inactivity limit: the inbox closes it; the return is a reopen.
                self._resolve(t + p.inactivity_seconds, c, "auto_inactivity", None, cycle)
                self._arrive(t + gap, "reopen", c)
                return
            t += gap
            waiting_since = t
            self._message(t, c, "customer", None, self.rng.choice(FOLLOWUPS))
            if c.status == "pending":
                self._status(t + 0.05, c, "open", "system", None)
            for _ in range(self.rng.randrange(0, 2)):
                t += min(self._lognormal(15, 0.6), 45.0)
                self._message(t, c, "customer", None, self.rng.choice(FOLLOWUPS))
            last_customer = t
            t, new_agent = self._await_reply(
                c, waiting_since, agent, team, profile.handle_median_seconds, cycle
            )
            if new_agent is None or t >= self.end:
                self._finish(c, cycle, math.inf)
                return
            t = max(t, last_customer + self.rng.uniform(5, 30))
            agent = new_agent
        self._close(t, c, agent, cycle)

    def _reply(self, t: float, c: _Contact, agent: _Agent, body: str) -> None:
        if t - c.last_inbound > 24 * 3600:
            # Outside WhatsApp's 24 h window only an approved template can be sent.
            self._message(
                t,
                c,
                "agent",
                agent.id,
                "Hola, retomamos tu solicitud. ¿Sigues necesitando ayuda?",
                message_type="template",
                template_name="seguimiento_atencion",
            )
        else:
            self._message(t, c, "agent", agent.id, body)

    def _plan_extras(self, topic: str, turns: int) -> dict[int, list[str]]:
        p = self.profile
        plan: dict[int, list[str]] = {}
        for name, chance in (
            ("note", p.note_probability),
            ("tag", p.tag_probability),
            ("transfer", p.transfer_probability if turns > 1 else 0.0),
            ("lead", p.lead_probability if topic == "sales_lead" else 0.0),
        ):
            if self.rng.random() < chance:
                last = turns - 2 if name == "transfer" else turns - 1
                plan.setdefault(self.rng.randint(0, max(0, last)), []).append(name)
        return plan

    def _extra(
        self,
        name: str,
        t: float,
        c: _Contact,
        agent: _Agent,
        topic: str,
        team: str,
        cycle: _Cycle,
    ) -> tuple[float, _Agent, str, str]:
        t += self.rng.uniform(3, 40)
        if name == "note":
            self._emit(
                t,
                "note",
                c,
                "agent",
                agent.id,
                {"note_id": f"note:sim:{self.seed}:{self.n}", "body": self.rng.choice(NOTES)},
            )
        elif name == "tag":
            tag = self.rng.choice(TOPICS[topic].tags)
            self._emit(t, "tag", c, "agent", agent.id, {"tag": tag, "action": "added"})
        elif name == "lead":
            lead_id = f"lead:sim:{self.seed}:{self.n}"
            self._emit(
                t,
                "lead",
                c,
                "agent",
                agent.id,
                {"lead_id": lead_id, "source": "agent", "note": None},
            )
            self._maybe_convert(t, c)
        elif name == "transfer":
            new_topic = self.rng.choice([other for other in TOPICS if other != topic])
            new_team = self.topic_team[new_topic]
            self._emit(t, "topic", c, "agent", agent.id, {"topic": new_topic, "team_id": new_team})
            target = self._route(t, new_team, exclude=agent.id)
            self._assign(t + 0.5, c, target, new_team, "transfer", cycle, actor=agent)
            # The colleague picks it up; the customer's next wait is theirs.
            if target is None:
                pick_at, target = self._pickup(t, new_team)
                if target is None:
                    return t, agent, topic, team
                self._assign(pick_at, c, target, new_team, "router", cycle)
            return t, target, new_topic, new_team
        return t, agent, topic, team

    def _maybe_convert(self, t: float, c: _Contact) -> None:
        p = self.profile
        if self.rng.random() >= p.conversion_probability:
            return
        days = min(p.conversion_max_days, max(0.5, self._lognormal(p.conversion_median_days, 0.8)))
        at = t + days * 86400
        sale = self.rng.random() < 0.75
        n = self.n
        self._emit(
            at,
            "conversion",
            c,
            "import",
            None,
            {
                "conversion_id": f"conv:sim:{self.seed}:{n}",
                "kind": "sale" if sale else "appointment",
                "amount": round(self._lognormal(3500, 0.9), 2) if sale else None,
                "currency": "MXN" if sale else None,
                "source": "crm",
                "external_id": f"crm-sim-{self.seed}-{n}",
            },
        )

    def _close(self, t: float, c: _Contact, agent: _Agent, cycle: _Cycle) -> None:
        p = self.profile
        roll = self.rng.random()
        if roll < p.auto_resolve_probability:
            self._status(t + self.rng.uniform(2, 30), c, "pending", "agent", agent.id)
            self._resolve(t + p.inactivity_seconds, c, "auto_inactivity", None, cycle)
        elif roll < p.auto_resolve_probability + p.customer_close_probability:
            at = t + self._lognormal(120, 0.8)
            self._message(
                at, c, "customer", None, "Ya quedó", message_type="button", interactive_id="close"
            )
            self._resolve(at + 0.5, c, "customer", None, cycle)
        else:
            if self.rng.random() < 0.5:
                t += self._lognormal(60, 0.8)
                self._message(t, c, "customer", None, self.rng.choice(("ok", "Va", "Perfecto")))
            self._resolve(t + self._lognormal(120, 0.9), c, "agent", agent, cycle)

    def _resolve(
        self,
        t: float,
        c: _Contact,
        kind: str,
        agent: _Agent | None,
        cycle: _Cycle,
        survey: bool = True,
    ) -> None:
        p = self.profile
        if kind == "agent" and agent is not None:
            self._status(t, c, "resolved", "agent", agent.id, kind)
        elif kind == "bot":
            self._status(t, c, "resolved", "bot", BOT_ID, kind)
        elif kind == "customer":
            self._status(t, c, "resolved", "customer", None, kind)
        else:
            self._status(t, c, "resolved", "system", None, "auto_inactivity")
        self._finish(c, cycle, t)
        if survey and kind != "auto_inactivity":
            self._survey(t, c, "csat", cycle.escalated)
            if self.rng.random() < p.nps_probability:
                self._survey(t + 60, c, "nps", cycle.escalated)
        roll = self.rng.random()
        if kind != "auto_inactivity" and roll < p.thanks_probability:
            self._arrive(t + self._lognormal(300, 1.0), "thanks", c)
        elif roll < p.thanks_probability + p.reopen_probability:
            self._arrive(t + self.rng.uniform(1800, 48 * 3600), "reopen", c)

    def _finish(self, c: _Contact, cycle: _Cycle, end: float) -> None:
        c.busy_until = end
        for agent_id in cycle.agents:
            self.agent_by_id[agent_id].ends.append(end)

    def _survey(self, t: float, c: _Contact, kind: str, escalated: bool) -> None:
        p = self.profile
        at = t + self.rng.uniform(2, 6)
        question = (
            "¿Cómo calificarías la atención? (1 a 5)"
            if kind == "csat"
            else "Del 0 al 10, ¿qué tan probable es que nos recomiendes?"
        )
        message_id = self._message(
            at,
            c,
            "automation",
            None,
            question,
            message_type="interactive",
            automation_kind="survey",
        )
        survey_id = f"survey:sim:{self.seed}:{self.n}"
        self._emit(
            at + 0.01,
            "survey_sent",
            c,
            "automation",
            None,
            {"survey_id": survey_id, "kind": kind, "message_id": message_id},
        )
        if self.rng.random() >= (p.csat_response_rate if kind == "csat" else 0.3):
            return
        if kind == "csat":
            weights = list(p.csat_scores)
            if escalated:
                weights = [w * f for w, f in zip(weights, (3, 2, 1.5, 0.7, 0.4), strict=True)]
            score = self.rng.choices(range(1, 6), weights)[0]
        else:
            score = self.rng.choices(range(11), (2, 1, 1, 2, 2, 4, 6, 10, 18, 24, 30))[0]
        self._emit(
            at + self._lognormal(600, 1.2),
            "survey_answer",
            c,
            "customer",
            None,
            {"survey_id": survey_id, "kind": kind, "score": score},
        )

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> list[dict[str, Any]]:
        for team in self.config.teams:
            self._emit(
                self.start - 2,
                "team",
                None,
                "system",
                None,
                {"team_id": team.id, "name": team.name},
            )
        supervisors = [a for a in self.config.agents if a.role != "agent"]
        for a in self.agents:
            self._agent_event(a.id, a.name, a.role, a.teams, a.skills, a.capacity)
        for s in supervisors:
            self._agent_event(s.id, s.name, s.role, s.teams, s.skills, s.capacity)
        self._schedule_arrivals()
        while self.arrivals:
            t, _, kind, contact = heapq.heappop(self.arrivals)
            if t >= self.end:
                break
            for agent in self.agents:
                agent.ends = [end for end in agent.ends if end > t]
            if contact is None:
                contact = self._pick_contact(t)
                kind = "return" if contact.status else "new"
            elif contact.busy_until > t:
                continue  # the customer already came back through another cycle
            self._cycle(contact, t, kind)
        return self._rows()

    def _agent_event(
        self, agent_id: str, name: str, role: str, teams: list[str], skills: list[str], cap: int
    ) -> None:
        self._emit(
            self.start - 1,
            "agent",
            None,
            "system",
            None,
            {
                "agent_id": agent_id,
                "name": name,
                "role": role,
                "team_ids": list(teams),
                "skills": list(skills),
                "capacity": cap,
                "active": True,
            },
        )

    def _rows(self) -> list[dict[str, Any]]:
        kept = sorted((e for e in self.events if e[0] < self.end), key=lambda e: (e[0], e[1]))
        rows = []
        for i, (t, _, event_type, c, actor_kind, actor_id, payload) in enumerate(kept):
            conversational = c is not None and event_type != "contact"
            rows.append(
                {
                    "event_id": f"sim:{self.seed}:{i}",
                    "event_type": event_type,
                    "occurred_at": _iso(t),
                    "inbox_id": INBOX_ID if c is not None else None,
                    "conversation_id": c.conversation_id if conversational else None,
                    "contact_id": c.id if c is not None else None,
                    "actor_kind": actor_kind,
                    "actor_id": actor_id,
                    "payload": payload,
                }
            )
        return rows


def default_end(now: dt.datetime | None = None) -> dt.datetime:
    """The end of a history run: the current hour, so reruns within it give the same events."""
    now = now or dt.datetime.now(UTC)
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def generate(
    config: BusinessConfig,
    days: float,
    agents: int,
    seed: int,
    end: dt.datetime | None = None,
    profile: Profile | None = None,
) -> Iterator[dict[str, Any]]:
    """Events of `days` days of traffic ending at `end`, ordered by time, ids `sim:<seed>:<n>`.

    Each event has the import columns of docs/events.md with `payload` as a dict.
    """
    simulation = _Simulation(config, days, agents, seed, end or default_end(), profile or Profile())
    yield from simulation.run()
