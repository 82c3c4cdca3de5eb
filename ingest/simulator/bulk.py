"""Bulk mode: millions of events as import-ready Parquet, vectorised with numpy and Polars.

The per-event simulator plays each cycle through agents' shifts and the SLA engine; that costs
about 5 µs per event, too slow for 10 million messages. Here every cycle follows the same shape
(customer burst, optional bot triage, agent turns, resolution, survey) drawn as whole arrays.
Simplifications, so a benchmark reader knows: agents are always available, holidays are not
closed, escalations are alerts only (cycles whose first reply took over the alert time inside
business hours), and outbound messages carry `delivered`/`read` statuses but no `sent`.
Contacts are split across chunks so each conversation's events stay in order within its files.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from ingest.config import BusinessConfig
from ingest.simulator.contract import IMPORT_COLUMNS, IMPORT_SCHEMA
from ingest.simulator.profile import RESTDAY_HOURLY, TOPICS, WEEKDAY_FACTOR, WEEKDAY_HOURLY
from ingest.simulator.traffic import INBOX_ID

MAX_BATCH_ROWS = 50_000
# About ten messages per cycle; the rest of a cycle's events come on top.
MESSAGES_PER_CYCLE = 10.0
CYCLES_PER_CONTACT = 2.5
CONTACTS_PER_CHUNK = 40_000
CYCLES_PER_DAY = 3_000.0

_CUSTOMER_BODIES = [
    json.dumps(body, ensure_ascii=False) for topic in TOPICS.values() for body in topic.bodies
] + ['"ok"', '"Sí"', '"¿Me confirma por favor?"', '"Va, gracias"']
_AGENT_BODIES = [
    json.dumps(body, ensure_ascii=False)
    for body in (
        "Con gusto te ayudo, ¿me compartes tu número de pedido?",
        "Ya lo reviso, dame un momento por favor",
        "Listo, quedó registrado",
        "¿Hay algo más en lo que te pueda ayudar?",
    )
]


@dataclass(frozen=True)
class BulkStats:
    messages: int
    cycles: int
    contacts: int
    events: int
    files: int
    seconds: float
    first_at: dt.datetime
    last_at: dt.datetime


def _segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row owner index and position within the owner, for owners repeated `counts` times."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    position = np.arange(len(owner)) - np.repeat(starts, counts)
    return owner, position


def _grouped_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    total = np.cumsum(values)
    ends = np.cumsum(counts)
    before = np.concatenate(([0.0], total[ends[:-1] - 1])) if len(counts) else np.array([])
    return total - np.repeat(before, counts)


def _fmt(template: str, *values: pl.Expr) -> pl.Expr:
    """Fill each `{}` of a template with an expression (JSON braces stay literal)."""
    pieces = template.split("{}")
    if len(pieces) != len(values) + 1:
        raise ValueError(f"template {template!r} needs {len(pieces) - 1} values")
    parts: list[pl.Expr] = [pl.lit(pieces[0])]
    for value, piece in zip(values, pieces[1:], strict=True):
        parts += [value.cast(pl.String), pl.lit(piece)]
    return pl.concat_str(parts)


def _json_str(column: str) -> pl.Expr:
    """A string column as a JSON value (quoted, or null)."""
    return (
        pl.when(pl.col(column).is_null())
        .then(pl.lit("null"))
        .otherwise(_fmt('"{}"', pl.col(column)))
    )


class _Chunk:
    """One set of contacts over the whole period, drawn as arrays."""

    def __init__(
        self,
        rng: np.random.Generator,
        config: BusinessConfig,
        seed: int,
        chunk: int,
        contacts: int,
        days: int,
        day_starts: np.ndarray,
        weekday: np.ndarray,
        agents_by_team: dict[str, np.ndarray],
        speed: dict[str, float],
    ) -> None:
        self.rng, self.seed, self.chunk = rng, seed, chunk
        self.day_starts = day_starts
        self.config = config
        self.frames: list[pl.DataFrame] = []
        n_contacts = contacts
        per_contact = 1 + rng.poisson(CYCLES_PER_CONTACT - 1, n_contacts)
        contact, cycle_number = _segments(per_contact)
        # Cycles of one contact are at least three days apart, and no cycle outlasts two days,
        # so a conversation never has two cycles open at once.
        gaps = 3 + rng.exponential(days / per_contact[contact])
        gaps[cycle_number == 0] = rng.uniform(0, days, n_contacts)
        day = np.floor(_grouped_cumsum(gaps, per_contact)).astype(np.int64)
        keep = day < days
        keep &= rng.random(len(day)) < np.asarray(WEEKDAY_FACTOR)[
            weekday[day.clip(0, days - 1)]
        ] / max(WEEKDAY_FACTOR)
        contact, cycle_number, day = contact[keep], cycle_number[keep], day[keep]
        self.n = n = len(contact)
        rest = weekday[day] >= 5
        hour = np.where(
            rest,
            rng.choice(24, n, p=np.asarray(RESTDAY_HOURLY) / sum(RESTDAY_HOURLY)),
            rng.choice(24, n, p=np.asarray(WEEKDAY_HOURLY) / sum(WEEKDAY_HOURLY)),
        )
        tod = hour * 3600 + rng.uniform(0, 3600, n)
        self.t0 = day_starts[day] + tod
        self.business = ~rest & (tod >= 9 * 3600) & (tod < 18 * 3600)
        topics = list(TOPICS)
        topic_ix = rng.choice(len(topics), n, p=[TOPICS[t].weight for t in topics])
        team_of = {t.id: t.team for t in config.topics}
        fallback = config.default_team or config.teams[0].id
        self.topic = np.asarray(topics, dtype=object)[topic_ix]
        self.team = np.asarray([team_of.get(t, fallback) for t in topics], dtype=object)[topic_ix]
        self.agent = np.empty(n, dtype=object)
        agent_speed = np.ones(n)
        for team, ids in agents_by_team.items():
            mask = self.team == team
            picked = ids[rng.integers(0, len(ids), mask.sum())]
            self.agent[mask] = picked
            agent_speed[mask] = [speed[a] for a in picked]
        self.contact_ix = contact
        self.cycle_number = cycle_number
        ids = np.char.add(f"MX.{seed:03d}{chunk:04d}", np.char.zfill(contact.astype(str), 9))
        self.contact_id = ids.astype(object)
        self.conversation_id = np.char.add(f"{INBOX_ID}:", ids).astype(object)
        self._build(topics, topic_ix, agent_speed, weekday, day, tod)

    def _frame(
        self,
        cycle: np.ndarray,
        t: np.ndarray,
        event_type: str,
        actor_kind: str | np.ndarray,
        actor_id: np.ndarray | None,
        payload: pl.Expr,
        columns: dict[str, np.ndarray] | None = None,
    ) -> None:
        data = {"cycle": cycle, "t": t, **(columns or {})}
        frame = pl.DataFrame(
            [
                pl.Series(name, values.tolist(), dtype=pl.String)
                if values.dtype == object or values.dtype.kind == "U"
                else pl.Series(name, values)
                for name, values in data.items()
            ]
        )
        frame = frame.with_columns(
            pl.lit(event_type).alias("event_type"),
            (
                pl.Series("actor_kind", actor_kind.tolist(), dtype=pl.String)
                if isinstance(actor_kind, np.ndarray)
                else pl.lit(actor_kind)
            ).alias("actor_kind"),
            (
                pl.Series("actor_id", actor_id.tolist(), dtype=pl.String)
                if actor_id is not None
                else pl.lit(None, dtype=pl.String)
            ).alias("actor_id"),
        ).with_columns(payload.alias("payload"))
        self.frames.append(
            frame.select("cycle", "t", "event_type", "actor_kind", "actor_id", "payload")
        )

    def _messages(
        self,
        cycle: np.ndarray,
        t: np.ndarray,
        direction: np.ndarray,
        sender: np.ndarray,
        body: np.ndarray,
        message_type: np.ndarray,
        automation: np.ndarray,
        interactive: np.ndarray,
        tag: str,
    ) -> None:
        position = np.arange(len(cycle))
        message_id = np.char.add(
            f"wamid.BULK{self.seed}C{self.chunk}{tag}", position.astype(str)
        ).astype(object)
        actor_id = np.where(sender == "agent", self.agent[cycle], None)
        actor_id = np.where(sender == "bot", "triage-bot", actor_id)
        payload = _fmt(
            '{"message_id":"{}","direction":"{}","sender_kind":"{}","message_type":"{}",'
            '"automation_kind":{},"template_name":null,"body":{},"reply_to_message_id":null,'
            '"interactive_id":{}}',
            pl.col("message_id"),
            pl.col("direction"),
            pl.col("sender"),
            pl.col("message_type"),
            _json_str("automation"),
            pl.col("body"),
            _json_str("interactive"),
        )
        self._frame(
            cycle,
            t,
            "message",
            sender.astype(object),
            actor_id,
            payload,
            {
                "message_id": message_id,
                "direction": direction.astype(object),
                "sender": sender.astype(object),
                "message_type": message_type.astype(object),
                "automation": automation.astype(object),
                "body": body.astype(object),
                "interactive": interactive.astype(object),
            },
        )
        outbound = direction == "outbound"
        out_cycle, out_t, out_id = cycle[outbound], t[outbound], message_id[outbound]
        delivered = out_t + self.rng.uniform(2, 8, len(out_t))
        status = _fmt('{"message_id":"{}","status":"delivered"}', pl.col("message_id"))
        self._frame(
            out_cycle, delivered, "message_status", "system", None, status, {"message_id": out_id}
        )
        read = self.rng.random(len(out_t)) < 0.78
        read_t = delivered[read] + np.exp(self.rng.normal(math.log(60), 1.2, read.sum()))
        status = _fmt('{"message_id":"{}","status":"read"}', pl.col("message_id"))
        self._frame(
            out_cycle[read],
            read_t,
            "message_status",
            "system",
            None,
            status,
            {"message_id": out_id[read]},
        )

    def _build(
        self,
        topics: list[str],
        topic_ix: np.ndarray,
        speed: np.ndarray,
        weekday: np.ndarray,
        day: np.ndarray,
        tod: np.ndarray,
    ) -> None:
        rng, n, cycles = self.rng, self.n, np.arange(self.n)
        t0 = self.t0

        def lognormal(median: float, sigma: float, size: int) -> np.ndarray:
            return np.exp(rng.normal(math.log(median), sigma, size))

        previous = np.where(self.cycle_number == 0, "null", '"resolved"')
        self._frame(
            cycles,
            t0 + 0.05,
            "status_change",
            "system",
            None,
            _fmt('{"status":"open","previous_status":{}}', pl.col("previous")),
            {"previous": previous.astype(object)},
        )
        first = self.cycle_number == 0
        contact_payload = _fmt(
            '{"contact_id":"{}","wa_id":"{}","bsuid":"{}","profile_name":"Cliente {}"}',
            pl.col("contact"),
            pl.col("wa"),
            pl.col("contact"),
            pl.col("wa"),
        )
        wa = np.char.add(
            f"52{self.seed % 10}{self.chunk % 10}", np.char.zfill(self.contact_ix.astype(str), 9)
        )
        self._frame(
            cycles[first],
            t0[first] - 0.01,
            "contact",
            "system",
            None,
            contact_payload,
            {"contact": self.contact_id[first], "wa": wa[first].astype(object)},
        )
        # Customer burst.
        burst = 1 + rng.poisson(0.6, n)
        owner, k = _segments(burst)
        burst_t = t0[owner] + k * lognormal(20, 0.6, len(owner))
        size = len(owner)
        self._messages(
            owner,
            burst_t,
            np.full(size, "inbound"),
            np.full(size, "customer"),
            np.asarray(_CUSTOMER_BODIES, dtype=object)[
                rng.integers(0, len(_CUSTOMER_BODIES), size)
            ],
            np.full(size, "text"),
            np.full(size, None),
            np.full(size, None),
            "B",
        )
        last_burst = t0 + (burst - 1) * 20
        # Bot triage for about half; a few resolved by the bot.
        bot = rng.random(n) < 0.55
        bot_resolved = bot & (rng.random(n) < 0.12)
        menu_t = t0 + rng.uniform(1, 3, n)
        tap_t = np.maximum(menu_t, last_burst) + lognormal(25, 0.7, n)
        b = cycles[bot]
        self._messages(
            np.concatenate([b, b]),
            np.concatenate([menu_t[bot], tap_t[bot]]),
            np.repeat(np.array(["outbound", "inbound"]), len(b)),
            np.repeat(np.array(["bot", "customer"]), len(b)),
            np.repeat(np.array(['"Elige una opción"', '"Menú"'], dtype=object), len(b)),
            np.full(2 * len(b), "interactive"),
            np.full(2 * len(b), None),
            np.concatenate([np.full(len(b), None), np.full(len(b), "menu")]),
            "T",
        )
        topic_t = np.where(bot, tap_t + 0.5, t0 + 0.5)
        topic_payload = _fmt('{"topic":"{}","team_id":"{}"}', pl.col("topic"), pl.col("team"))
        self._frame(
            cycles,
            topic_t,
            "topic",
            np.where(bot, "bot", "system").astype(object),
            np.where(bot, "triage-bot", None),
            topic_payload,
            {"topic": self.topic, "team": self.team},
        )
        human = ~bot_resolved
        handoff = bot & human
        clock = np.where(handoff, tap_t + 2, t0)
        self._frame(
            cycles[handoff],
            clock[handoff],
            "handoff",
            "bot",
            np.full(handoff.sum(), "triage-bot", dtype=object),
            _fmt('{"team_id":"{}"}', pl.col("team")),
            {"team": self.team[handoff]},
        )
        h = cycles[human]
        self._frame(
            h,
            clock[human] + 2,
            "assignment",
            "system",
            None,
            _fmt(
                '{"agent_id":"{}","team_id":"{}","previous_agent_id":null,"reason":"router"}',
                pl.col("agent"),
                pl.col("team"),
            ),
            {"agent": self.agent[human], "team": self.team[human]},
        )
        # First reply: minutes in business hours, the next opening (09:00 on a weekday) otherwise.
        ahead = np.zeros(n, dtype=np.int64)
        local_tod = tod + (clock - t0)
        ahead[~self.business & ((local_tod >= 18 * 3600) | (weekday[day] >= 5))] = 1
        next_day = (day + ahead).clip(0, len(weekday) - 1)
        for _ in range(2):  # skip Saturday and Sunday
            weekend = weekday[next_day] >= 5
            ahead[weekend] += 1
            next_day = (day + ahead).clip(0, len(weekday) - 1)
        open_at = self.day_starts_of(day + ahead) + 9 * 3600
        frt = lognormal(70, 0.8, n) * speed
        slow = rng.random(n) < 0.08
        frt[slow] *= rng.uniform(6, 14, slow.sum())
        reply_t = np.where(
            self.business, clock + 2 + frt, np.maximum(open_at, clock) + lognormal(90, 0.6, n)
        )
        alert = (
            human
            & self.business
            & (reply_t - clock > self.config.sla.alert_after_seconds)
            & (local_tod + (reply_t - clock) < 18 * 3600)
        )
        a = cycles[alert]
        self._frame(
            a,
            clock[alert] + self.config.sla.alert_after_seconds,
            "escalation",
            "sla",
            None,
            _fmt(
                '{"level":"alert","waiting_since":"{}","agent_id":"{}","team_id":"{}"}',
                pl.col("since"),
                pl.col("agent"),
                pl.col("team"),
            ),
            {
                "since": _iso_array(clock[alert] + 2),
                "agent": self.agent[alert],
                "team": self.team[alert],
            },
        )
        # Turns: agent, customer, agent, ... (2 * turns - 1 messages), gaps by who speaks next.
        low = np.asarray([TOPICS[t].turns[0] for t in topics])[topic_ix]
        high = np.asarray([TOPICS[t].turns[1] for t in topics])[topic_ix]
        turns = rng.integers(low, high + 1)
        counts = np.where(human, 2 * turns - 1, 0)
        owner, k = _segments(counts)
        agent_turn = k % 2 == 0
        handle = np.asarray([TOPICS[t].handle_median_seconds for t in topics])[topic_ix]
        gap = np.where(
            agent_turn,
            lognormal(1.0, 0.75, len(owner)) * handle[owner] * speed[owner],
            lognormal(150, 1.0, len(owner)),
        )
        gap[k == 0] = 0.0
        turn_t = reply_t[owner] + _grouped_cumsum(gap, counts)
        size = len(owner)
        bodies = np.where(
            agent_turn,
            np.asarray(_AGENT_BODIES, dtype=object)[rng.integers(0, len(_AGENT_BODIES), size)],
            np.asarray(_CUSTOMER_BODIES, dtype=object)[
                rng.integers(0, len(_CUSTOMER_BODIES), size)
            ],
        )
        self._messages(
            owner,
            turn_t,
            np.where(agent_turn, "outbound", "inbound"),
            np.where(agent_turn, "agent", "customer"),
            bodies,
            np.full(size, "text"),
            np.full(size, None),
            np.full(size, None),
            "M",
        )
        last = np.where(human, t0, tap_t + 2)
        if size:
            ends = np.cumsum(counts)[human] - 1
            last[human] = turn_t[ends]
        # Resolution: agent, auto-inactivity, or the bot.
        auto = human & (rng.random(n) < 0.05)
        resolved_t = np.where(auto, last + 24 * 3600, last + lognormal(120, 0.9, n))
        # Keep every cycle shorter than two days so cycles of one contact never overlap.
        resolved_t = np.minimum(resolved_t, t0 + 1.9 * 86400)
        kind = np.where(bot_resolved, "bot", np.where(auto, "auto_inactivity", "agent"))
        actor_kind = np.where(bot_resolved, "bot", np.where(auto, "system", "agent"))
        actor_id = np.where(bot_resolved, "triage-bot", np.where(auto, None, self.agent))
        self._frame(
            cycles,
            resolved_t,
            "status_change",
            actor_kind.astype(object),
            actor_id,
            _fmt(
                '{"status":"resolved","previous_status":"open","resolution_kind":"{}"}',
                pl.col("kind"),
            ),
            {"kind": kind.astype(object)},
        )
        surveyed = ~auto
        s = cycles[surveyed]
        survey_t = resolved_t[surveyed] + rng.uniform(2, 6, len(s))
        size = len(s)
        self._messages(
            s,
            survey_t,
            np.full(size, "outbound"),
            np.full(size, "automation"),
            np.full(size, '"¿Cómo calificarías la atención? (1 a 5)"', dtype=object),
            np.full(size, "interactive"),
            np.full(size, "survey"),
            np.full(size, None),
            "S",
        )
        survey_id = np.char.add(f"survey:bulk:{self.seed}:{self.chunk}:", s.astype(str)).astype(
            object
        )
        message_id = np.char.add(
            f"wamid.BULK{self.seed}C{self.chunk}S", np.arange(size).astype(str)
        ).astype(object)
        self._frame(
            s,
            survey_t + 0.01,
            "survey_sent",
            "automation",
            None,
            _fmt(
                '{"survey_id":"{}","kind":"csat","message_id":"{}"}',
                pl.col("survey"),
                pl.col("message"),
            ),
            {"survey": survey_id, "message": message_id},
        )
        answered = rng.random(size) < 0.33
        score = rng.choice(np.arange(1, 6), answered.sum(), p=[0.10, 0.07, 0.12, 0.25, 0.46])
        self._frame(
            s[answered],
            survey_t[answered] + lognormal(600, 1.2, answered.sum()),
            "survey_answer",
            "customer",
            None,
            _fmt('{"survey_id":"{}","kind":"csat","score":{}}', pl.col("survey"), pl.col("score")),
            {"survey": survey_id[answered], "score": score},
        )
        lead = human & (self.topic == "sales_lead") & (rng.random(n) < 0.55)
        lead_t = reply_t[lead] + rng.uniform(10, 120, lead.sum())
        lead_id = np.char.add(f"lead:bulk:{self.seed}:{self.chunk}:", cycles[lead].astype(str))
        self._frame(
            cycles[lead],
            lead_t,
            "lead",
            "agent",
            self.agent[lead],
            _fmt('{"lead_id":"{}","source":"agent","note":null}', pl.col("lead")),
            {"lead": lead_id.astype(object)},
        )
        converted = rng.random(lead.sum()) < 0.3
        conv_cycles = cycles[lead][converted]
        conv_t = lead_t[converted] + np.minimum(25, lognormal(4, 0.8, converted.sum())) * 86400
        amount = np.round(lognormal(3500, 0.9, converted.sum()), 2)
        external = np.char.add(f"crm-bulk-{self.seed}-{self.chunk}-", conv_cycles.astype(str))
        self._frame(
            conv_cycles,
            conv_t,
            "conversion",
            "import",
            None,
            _fmt(
                '{"conversion_id":"{}","kind":"sale","amount":{},"currency":"MXN",'
                '"source":"crm","external_id":"{}"}',
                pl.col("external"),
                pl.col("amount"),
                pl.col("external"),
            ),
            {"external": external.astype(object), "amount": amount},
        )

    def day_starts_of(self, day: np.ndarray) -> np.ndarray:
        return self.day_starts[day.clip(0, len(self.day_starts) - 1)]

    def table(self) -> pl.DataFrame:
        frame = pl.concat(self.frames).with_row_index("row")
        lookup = pl.DataFrame(
            {
                "cycle": np.arange(self.n),
                "conversation_id": pl.Series(self.conversation_id.tolist(), dtype=pl.String),
                "contact_id": pl.Series(self.contact_id.tolist(), dtype=pl.String),
            }
        )
        return (
            frame.join(lookup, on="cycle", how="left")
            .with_columns(
                pl.when(pl.col("event_type") == "contact")
                .then(None)
                .otherwise(pl.col("conversation_id"))
                .alias("conversation_id")
            )
            .sort("t", "row")
            .drop("row")
        )


def _iso_array(t: np.ndarray) -> np.ndarray:
    return (
        pl.Series(np.round(t * 1e6).astype(np.int64))
        .cast(pl.Datetime("us", "UTC"))
        .dt.strftime("%Y-%m-%dT%H:%M:%S%.3f+00:00")
        .to_numpy()
        .astype(object)
    )


def write_bulk(
    out_dir: Path,
    messages: int,
    seed: int,
    config: BusinessConfig | None = None,
    end: dt.datetime | None = None,
) -> BulkStats:
    """Write about `messages` messages (and their cycles' other events) as Parquet batches.

    Files are `events-<n>.parquet`, each at most 50 000 rows (one import batch) with the import
    columns; payload is JSON text. Deterministic for (messages, seed, end).
    """
    if messages < 1:
        raise ValueError("messages must be at least 1")
    config = config or BusinessConfig.model_validate(
        {
            "teams": [{"id": "support", "name": "Soporte"}],
            "agents": [{"id": "agent1", "name": "Agent 1", "teams": ["support"]}],
            "default_team": "support",
        }
    )
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.glob("events-*.parquet")):
        raise FileExistsError(
            f"{out_dir} already holds events-*.parquet files; use an empty folder"
        )
    rng = np.random.default_rng(seed)
    tz = ZoneInfo(config.calendar.timezone)
    end = (end or dt.datetime.now(dt.UTC)).astimezone(tz)
    last_day = end.date() - dt.timedelta(days=1)
    cycles_wanted = messages / MESSAGES_PER_CYCLE
    days = max(7, math.ceil(cycles_wanted / CYCLES_PER_DAY))
    first_day = last_day - dt.timedelta(days=days - 1)
    dates = [first_day + dt.timedelta(days=i) for i in range(days + 3)]
    day_starts = np.asarray([dt.datetime.combine(d, dt.time(0), tz).timestamp() for d in dates])
    weekday = np.asarray([d.weekday() for d in dates])
    teams = [team.id for team in config.teams]
    n_agents = max(len(teams), round(cycles_wanted / days / 36))
    agents_by_team = {
        team: np.asarray([f"agent{i:04d}" for i in range(n_agents) if i % len(teams) == j])
        for j, team in enumerate(teams)
    }
    speed = {f"agent{i:04d}": float(rng.uniform(0.6, 1.8)) for i in range(n_agents)}
    header = _header_rows(seed, teams, config, agents_by_team, day_starts[0])
    written = {"messages": 0, "cycles": 0, "events": 0, "files": 0}
    first_at = last_at = None
    contacts = 0
    chunk = 0
    pending = header
    per_contact = MESSAGES_PER_CYCLE  # refined after the first chunk
    while written["messages"] < messages:
        remaining = messages - written["messages"]
        size = max(100, min(CONTACTS_PER_CHUNK, math.ceil(remaining / per_contact)))
        part = _Chunk(
            rng, config, seed, chunk, size, days, day_starts, weekday, agents_by_team, speed
        )
        table = part.table().filter(pl.col("t") < end.timestamp())
        chunk_messages = table.filter(pl.col("event_type") == "message").height
        per_contact = max(1.0, chunk_messages / size)
        written["cycles"] += part.n
        written["messages"] += chunk_messages
        pending = pl.concat([pending, table.select(pending.columns)])
        contacts += size
        chunk += 1
        pending, stats = _flush(pending, out_dir, seed, written, final=False)
        first_at = min(filter(None, (first_at, stats[0]))) if stats[0] else first_at
        last_at = max(filter(None, (last_at, stats[1]))) if stats[1] else last_at
    _, stats = _flush(pending, out_dir, seed, written, final=True)
    first_at = min(filter(None, (first_at, stats[0]))) if stats[0] else first_at
    last_at = max(filter(None, (last_at, stats[1]))) if stats[1] else last_at
    return BulkStats(
        messages=written["messages"],
        cycles=written["cycles"],
        contacts=contacts,
        events=written["events"],
        files=written["files"],
        seconds=time.perf_counter() - started,
        first_at=first_at or end,
        last_at=last_at or end,
    )


def _header_rows(
    seed: int,
    teams: list[str],
    config: BusinessConfig,
    agents_by_team: dict[str, np.ndarray],
    start: float,
) -> pl.DataFrame:
    names = {team.id: team.name for team in config.teams}
    payloads = [json.dumps({"team_id": t, "name": names[t]}, ensure_ascii=False) for t in teams]
    kinds = ["team"] * len(teams)
    for team, ids in agents_by_team.items():
        for agent in ids:
            payloads.append(
                json.dumps(
                    {
                        "agent_id": str(agent),
                        "name": f"Agente {agent[5:]}",
                        "role": "agent",
                        "team_ids": [team],
                        "skills": [team],
                        "capacity": 8,
                        "active": True,
                    }
                )
            )
            kinds.append("agent")
    return pl.DataFrame(
        {
            "cycle": [-1] * len(kinds),
            "t": [start - 60.0] * len(kinds),
            "event_type": kinds,
            "actor_kind": ["system"] * len(kinds),
            "actor_id": [None] * len(kinds),
            "payload": payloads,
            "conversation_id": [None] * len(kinds),
            "contact_id": [None] * len(kinds),
        },
        schema_overrides={
            "actor_id": pl.String,
            "conversation_id": pl.String,
            "contact_id": pl.String,
            "cycle": pl.Int64,
        },
    )


def _flush(
    pending: pl.DataFrame, out_dir: Path, seed: int, written: dict[str, int], final: bool
) -> tuple[pl.DataFrame, tuple[dt.datetime | None, dt.datetime | None]]:
    """Write full 50 000-row batches (and the remainder when final); return what is left."""
    full = pending.height if final else pending.height - pending.height % MAX_BATCH_ROWS
    if full == 0:
        return pending, (None, None)
    out = (
        pending.head(full)
        .with_row_index("n", offset=written["events"])
        .select(
            _fmt("bulk:{}:{}", pl.lit(seed), pl.col("n")).alias("event_id"),
            pl.col("event_type"),
            (pl.col("t") * 1e6)
            .round()
            .cast(pl.Int64)
            .cast(pl.Datetime("us", "UTC"))
            .alias("occurred_at"),
            pl.when(pl.col("contact_id").is_null())
            .then(None)
            .otherwise(pl.lit(INBOX_ID))
            .alias("inbox_id"),
            pl.col("conversation_id"),
            pl.col("contact_id"),
            pl.col("actor_kind"),
            pl.col("actor_id"),
            pl.col("payload"),
        )
        .cast(IMPORT_SCHEMA)
        .select(IMPORT_COLUMNS)
    )
    for start in range(0, out.height, MAX_BATCH_ROWS):
        batch = out.slice(start, MAX_BATCH_ROWS)
        batch.write_parquet(out_dir / f"events-{written['files']:05d}.parquet", compression="zstd")
        written["files"] += 1
    written["events"] += out.height
    span = (out["occurred_at"].min(), out["occurred_at"].max())
    return pending.slice(full), span
