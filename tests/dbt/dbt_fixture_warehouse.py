"""A small, realistic raw warehouse for dbt tests: feed events per docs/events.md with the edge
cases of METRICS.md section 5, plus the business intervals from `ingest.calendar`.

`write_fixture_warehouse(path)` is reusable by other components' tests. Every conversation below
is one edge case; tests/dbt/test_dbt_build.py asserts the hand-computed figures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from ingest.calendar import BusinessCalendar, CalendarConfig

MX = ZoneInfo("America/Mexico_City")
INBOX = "pn-1"
CALENDAR_FIRST = dt.date(2026, 10, 1)
CALENDAR_LAST = dt.date(2027, 3, 31)

EVENT_COLUMNS = (
    "seq",
    "event_id",
    "event_type",
    "occurred_at",
    "recorded_at",
    "inbox_id",
    "conversation_id",
    "contact_id",
    "actor_kind",
    "actor_id",
    "payload",
)


PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")


def serving_path(warehouse: Path) -> Path:
    """The serving file a build over `warehouse` writes its marts and reports into."""
    return warehouse.with_name(f"{warehouse.stem}.serving.duckdb")


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to `warehouse` with its serving file attached: unqualified names
    find the warehouse's models, else the marts and reports of the serving file."""
    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute(f"ATTACH '{serving_path(warehouse)}' AS serving (READ_ONLY)")
    con.execute(f"SET search_path = '{warehouse.stem}.main,serving.main'")
    return con


def dbt_build(warehouse: Path, work: Path, *extra: str) -> None:
    """`dbt build` of the project over `warehouse` (marts and reports into its serving file),
    artifacts and logs under `work`; `extra` arguments go last. Fails the test with the tail of
    dbt's output."""
    env = {
        **os.environ,
        "BANDEJA_WAREHOUSE_DB": str(warehouse),
        "BANDEJA_SERVING_BUILD_DB": str(serving_path(warehouse)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        [
            str(DBT),
            "build",
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def local(text: str) -> dt.datetime:
    """A local Mexico City wall-clock time as an aware UTC instant."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=MX).astimezone(dt.UTC)


@dataclass
class EventLog:
    """Builds feed rows; `seq` follows call order unless a test forces it (out-of-order)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    next_seq: int = 1

    def add(
        self,
        event_type: str,
        at: dt.datetime,
        payload: dict[str, Any],
        *,
        conversation: str | None = None,
        actor_kind: str = "system",
        actor_id: str | None = None,
        event_id: str | None = None,
        seq: int | None = None,
    ) -> dict[str, Any]:
        if seq is None:
            seq = self.next_seq
        self.next_seq = max(self.next_seq, seq) + 1
        row = {
            "seq": seq,
            "event_id": event_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"bandeja:{seq}")),
            "event_type": event_type,
            "occurred_at": at,
            "recorded_at": at + dt.timedelta(seconds=1),
            "inbox_id": INBOX if conversation else None,
            "conversation_id": conversation,
            "contact_id": f"52155{conversation}" if conversation else None,
            "actor_kind": actor_kind,
            "actor_id": actor_id,
            "payload": json.dumps(payload),
        }
        self.rows.append(row)
        return row

    def customer(self, conversation: str, at: dt.datetime, body: str = "hola", **kw: Any) -> dict:
        wamid = f"wamid.{conversation}.{kw.get('seq', self.next_seq)}"
        return self.add(
            "message",
            at,
            {
                "message_id": wamid,
                "direction": "inbound",
                "sender_kind": "customer",
                "message_type": kw.pop("message_type", "text"),
                "automation_kind": None,
                "template_name": None,
                "body": body,
            },
            conversation=conversation,
            actor_kind="customer",
            event_id=f"msg:{wamid}",
            **kw,
        )

    def outbound(
        self,
        conversation: str,
        at: dt.datetime,
        sender_kind: str,
        actor_id: str | None = None,
        automation_kind: str | None = None,
        **kw: Any,
    ) -> dict:
        message_id = f"out:{conversation}:{kw.get('seq', self.next_seq)}"
        return self.add(
            "message",
            at,
            {
                "message_id": message_id,
                "direction": "outbound",
                "sender_kind": sender_kind,
                "message_type": "text",
                "automation_kind": automation_kind,
                "template_name": None,
                "body": "respuesta",
            },
            conversation=conversation,
            actor_kind=sender_kind,
            actor_id=actor_id,
            event_id=f"msg:{message_id}",
            **kw,
        )

    def reply(self, conversation: str, at: dt.datetime, agent: str, **kw: Any) -> dict:
        return self.outbound(conversation, at, "agent", agent, **kw)

    def assign(
        self, conversation: str, at: dt.datetime, agent: str | None, team: str = "support"
    ) -> dict:
        return self.add(
            "assignment",
            at,
            {"agent_id": agent, "team_id": team, "previous_agent_id": None, "reason": "router"},
            conversation=conversation,
        )

    def resolve(
        self, conversation: str, at: dt.datetime, kind: str = "agent", agent: str | None = None
    ) -> dict:
        actor_kind = {"agent": "agent", "bot": "bot", "customer": "customer"}.get(kind, "system")
        return self.add(
            "status_change",
            at,
            {"status": "resolved", "previous_status": "open", "resolution_kind": kind},
            conversation=conversation,
            actor_kind=actor_kind,
            actor_id=agent,
        )


def build_events() -> list[dict[str, Any]]:
    """The fixture's feed rows (see the module docstring)."""
    log = EventLog()
    for team_id, name in (("sales", "Ventas"), ("support", "Soporte")):
        log.add("team", local("2026-11-01 08:00"), {"team_id": team_id, "name": name})
    for agent_id, team in (
        ("ana", "sales"),
        ("beto", "sales"),
        ("carla", "support"),
        ("diego", "support"),
    ):
        log.add(
            "agent",
            local("2026-11-01 08:00"),
            {
                "agent_id": agent_id,
                "name": agent_id.title(),
                "role": "agent",
                "team_ids": [team],
                "skills": [team],
                "capacity": 8,
                "active": True,
            },
        )

    # c01 no reply ever (Mon 10:00, business): breached, unanswered; escalated then reassigned.
    log.customer("c01", local("2026-11-23 10:00"))
    log.assign("c01", local("2026-11-23 10:00:05"), "carla")
    log.add(
        "escalation",
        local("2026-11-23 10:10"),
        {
            "level": "alert",
            "waiting_since": local("2026-11-23 10:00").isoformat(),
            "agent_id": "carla",
            "team_id": "support",
        },
        conversation="c01",
        actor_kind="sla",
    )
    log.add(
        "escalation",
        local("2026-11-23 10:20"),
        {
            "level": "reassign",
            "waiting_since": local("2026-11-23 10:00").isoformat(),
            "agent_id": "carla",
            "to_agent_id": "diego",
            "team_id": "support",
        },
        conversation="c01",
        actor_kind="sla",
    )
    log.assign("c01", local("2026-11-23 10:20"), "diego")

    # c02 customer writes outside hours (Sat 11:00): off-hours target 1800, reply after 1200 s.
    log.customer("c02", local("2026-11-21 11:00"))
    log.reply("c02", local("2026-11-21 11:20"), "carla")

    # c03 holiday (Mon 16 Nov): off-hours target, reply after 2400 s: breached, 0 business s.
    log.customer("c03", local("2026-11-16 10:00"))
    log.reply("c03", local("2026-11-16 10:40"), "carla")

    # c04 message at exactly 18:00:00: not business, target 1800, reply at 18:10: met.
    log.customer("c04", local("2026-11-23 18:00:00"))
    log.reply("c04", local("2026-11-23 18:10"), "diego")

    # c05 reply exactly at the deadline (300 s): met; NPS 10; a lead converting after 29 days.
    log.customer("c05", local("2026-11-24 10:00:00"))
    log.assign("c05", local("2026-11-24 10:00:01"), "ana", "sales")
    log.reply("c05", local("2026-11-24 10:05:00"), "ana")
    log.add(
        "lead",
        local("2026-11-24 10:06"),
        {"lead_id": "lead-c05", "source": "agent"},
        conversation="c05",
        actor_kind="agent",
        actor_id="ana",
    )
    log.add(
        "lead",
        local("2026-11-24 10:07"),
        {"lead_id": "lead-c05-dup", "source": "tag"},
        conversation="c05",
        actor_kind="agent",
        actor_id="ana",
    )
    log.resolve("c05", local("2026-11-24 10:30"), "agent", "ana")
    log.add(
        "survey_sent",
        local("2026-11-24 10:31"),
        {"survey_id": "s-c05", "kind": "nps", "message_id": "out:s-c05"},
        conversation="c05",
        actor_kind="automation",
    )
    log.add(
        "survey_answer",
        local("2026-11-24 10:40"),
        {"survey_id": "s-c05", "kind": "nps", "score": 10},
        conversation="c05",
        actor_kind="customer",
    )

    # c06 reopen: two cycles, the first one reopened; CSAT 5 on the first; topic and tag.
    log.customer("c06", local("2026-11-23 11:00"))
    log.add(
        "topic",
        local("2026-11-23 11:00:01"),
        {"topic": "sales_lead", "team_id": "sales"},
        conversation="c06",
        actor_kind="bot",
    )
    log.add(
        "tag",
        local("2026-11-23 11:01"),
        {"tag": "vip", "action": "added"},
        conversation="c06",
        actor_kind="agent",
        actor_id="beto",
    )
    log.reply("c06", local("2026-11-23 11:02"), "beto")
    log.resolve("c06", local("2026-11-23 11:10"), "agent", "beto")
    log.add(
        "survey_sent",
        local("2026-11-23 11:11"),
        {"survey_id": "s-c06", "kind": "csat", "message_id": "out:s-c06"},
        conversation="c06",
        actor_kind="automation",
    )
    log.add(
        "survey_answer",
        local("2026-11-23 11:15"),
        {"survey_id": "s-c06", "kind": "csat", "score": 5},
        conversation="c06",
        actor_kind="customer",
    )
    log.customer("c06", local("2026-11-23 12:00"), "otra cosa")
    log.reply("c06", local("2026-11-23 12:03"), "beto")
    log.resolve("c06", local("2026-11-23 12:30"), "agent", "beto")

    # c07 bot then handoff: clock starts at the handoff (10:03); reply 10:06: FRT 180.
    log.customer("c07", local("2026-11-24 10:00"))
    log.outbound("c07", local("2026-11-24 10:00:05"), "bot")
    log.add(
        "handoff",
        local("2026-11-24 10:03"),
        {"team_id": "support"},
        conversation="c07",
        actor_kind="bot",
    )
    log.reply("c07", local("2026-11-24 10:06"), "carla")

    # c08 bot-only resolution: excluded from SLA and ART.
    log.customer("c08", local("2026-11-25 10:00"))
    log.outbound("c08", local("2026-11-25 10:00:05"), "bot")
    log.resolve("c08", local("2026-11-25 10:02"), "bot")

    # c09 agent replies before being assigned: credit diego; owner at deadline carla.
    log.customer("c09", local("2026-11-23 10:00"))
    log.reply("c09", local("2026-11-23 10:02"), "diego")
    log.assign("c09", local("2026-11-23 10:03"), "carla")

    # c10 reassignment mid-wait: ana then beto at 10:04; reply 10:10: breached, owner beto.
    log.customer("c10", local("2026-11-24 10:00"))
    log.assign("c10", local("2026-11-24 10:00:10"), "ana", "sales")
    log.assign("c10", local("2026-11-24 10:04"), "beto", "sales")
    log.reply("c10", local("2026-11-24 10:10"), "beto")

    # c11 internal note first: the note is no reply; reply at 10:07: FRT 420, breached.
    log.customer("c11", local("2026-11-24 10:00"))
    log.add(
        "note",
        local("2026-11-24 10:01"),
        {"note_id": "n1", "body": "revisar"},
        conversation="c11",
        actor_kind="agent",
        actor_id="diego",
    )
    log.reply("c11", local("2026-11-24 10:07"), "diego")

    # c12 automated reply first: off-hours promise at 20:00:01, agent at Tue 09:05: breached,
    # FRT 47 100 calendar s, 300 business s.
    log.customer("c12", local("2026-11-23 20:00"))
    log.outbound("c12", local("2026-11-23 20:00:01"), "automation", automation_kind="off_hours")
    log.reply("c12", local("2026-11-24 09:05"), "carla")

    # c13 several customer messages before the reply: clock from the first: FRT 240; NPS 4;
    # a lead converting after 31 days (outside the window).
    log.customer("c13", local("2026-11-24 11:00"))
    log.customer("c13", local("2026-11-24 11:01"))
    log.customer("c13", local("2026-11-24 11:02"))
    log.reply("c13", local("2026-11-24 11:04"), "ana")
    log.add(
        "lead",
        local("2026-11-24 11:05"),
        {"lead_id": "lead-c13", "source": "agent"},
        conversation="c13",
        actor_kind="agent",
        actor_id="ana",
    )
    log.resolve("c13", local("2026-11-24 11:30"), "agent", "ana")
    log.add(
        "survey_sent",
        local("2026-11-24 11:31"),
        {"survey_id": "s-c13", "kind": "nps", "message_id": "out:s-c13"},
        conversation="c13",
        actor_kind="automation",
    )
    log.add(
        "survey_answer",
        local("2026-11-24 11:40"),
        {"survey_id": "s-c13", "kind": "nps", "score": 4},
        conversation="c13",
        actor_kind="customer",
    )

    # c14 auto-resolve for inactivity: not in ART; CSAT 3.
    log.customer("c14", local("2026-11-25 10:00"))
    log.reply("c14", local("2026-11-25 10:01"), "diego")
    log.resolve("c14", local("2026-11-25 11:00"), "auto_inactivity")
    log.add(
        "survey_sent",
        local("2026-11-25 11:01"),
        {"survey_id": "s-c14", "kind": "csat", "message_id": "out:s-c14"},
        conversation="c14",
        actor_kind="automation",
    )
    log.add(
        "survey_answer",
        local("2026-11-25 11:05"),
        {"survey_id": "s-c14", "kind": "csat", "score": 3},
        conversation="c14",
        actor_kind="customer",
    )

    # c15 customer "thanks" after resolution: a new (unanswered) cycle; ART 240 s.
    log.customer("c15", local("2026-11-26 10:00"))
    log.reply("c15", local("2026-11-26 10:01"), "carla")
    log.resolve("c15", local("2026-11-26 10:04"), "agent", "carla")
    log.customer("c15", local("2026-11-26 10:06"), "gracias!")
    log.customer("c15", local("2026-11-26 10:06:30"), "👍", message_type="reaction")

    # c16 duplicated webhook delivery: the same event stored twice by the feed, and the same
    # wamid once more under another event id: counted once.
    first = log.customer("c16", local("2026-11-26 11:00"))
    log.rows.append({**first, "seq": log.next_seq, "recorded_at": first["recorded_at"]})
    log.next_seq += 1
    log.rows.append({**first, "seq": log.next_seq, "event_id": f"{first['event_id']}:retry"})
    log.next_seq += 1
    log.reply("c16", local("2026-11-26 11:03"), "diego")

    # c17 events arriving out of order: the reply has a lower seq than the customer message.
    reply_seq = log.next_seq
    log.next_seq += 1
    log.customer("c17", local("2026-11-26 12:00"))
    log.reply("c17", local("2026-11-26 12:02"), "carla", seq=reply_seq)

    # Conversions: c05 converts 29 days after its lead, c13 only after 31 days.
    log.add(
        "conversion",
        local("2026-12-23 12:00"),
        {
            "conversion_id": "conv-c05",
            "kind": "sale",
            "amount": 1500.0,
            "currency": "MXN",
            "source": "crm",
        },
        conversation=None,
        actor_kind="import",
    )["contact_id"] = "52155c05"
    log.add(
        "conversion",
        local("2026-12-25 11:10"),
        {
            "conversion_id": "conv-c13",
            "kind": "sale",
            "amount": 900.0,
            "currency": "MXN",
            "source": "crm",
        },
        conversation=None,
        actor_kind="import",
    )["contact_id"] = "52155c13"

    # c18 a lead inside the last window: provisional cohort.
    log.customer("c18", local("2026-12-21 10:00"))
    log.reply("c18", local("2026-12-21 10:02"), "ana")
    log.add(
        "lead",
        local("2026-12-21 10:03"),
        {"lead_id": "lead-c18", "source": "api"},
        conversation="c18",
        actor_kind="agent",
        actor_id="ana",
    )

    # c19 the latest event: a cycle whose deadline is after as_of: pending.
    log.customer("c19", local("2026-12-25 11:20"))
    return log.rows


def write_fixture_warehouse(path: Path, events: list[dict[str, Any]] | None = None) -> None:
    """Create (or replace) `raw.inbox_events` and `raw.business_intervals` in a DuckDB file, and
    remove the serving file of an earlier build over the same path."""
    rows = build_events() if events is None else events
    serving_path(path).unlink(missing_ok=True)
    calendar = BusinessCalendar(CalendarConfig())
    intervals = list(calendar.intervals(CALENDAR_FIRST, CALENDAR_LAST))
    con = duckdb.connect(str(path))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create schema if not exists raw")
        con.execute(
            """
            create or replace table raw.inbox_events (
                seq bigint, event_id varchar, event_type varchar, occurred_at timestamptz,
                recorded_at timestamptz, inbox_id varchar, conversation_id varchar,
                contact_id varchar, actor_kind varchar, actor_id varchar, payload varchar
            )
            """
        )
        con.executemany(
            f"insert into raw.inbox_events values ({', '.join('?' for _ in EVENT_COLUMNS)})",
            [tuple(row[col] for col in EVENT_COLUMNS) for row in rows],
        )
        con.execute(
            """
            create or replace table raw.business_intervals (
                local_date date, open_at timestamptz, close_at timestamptz
            )
            """
        )
        con.executemany("insert into raw.business_intervals values (?, ?, ?)", intervals)
    finally:
        con.close()


def append_events(path: Path, rows: list[dict[str, Any]]) -> None:
    """Append feed rows (as the ingest would after a new pull)."""
    con = duckdb.connect(str(path))
    try:
        con.executemany(
            f"insert into raw.inbox_events values ({', '.join('?' for _ in EVENT_COLUMNS)})",
            [tuple(row[col] for col in EVENT_COLUMNS) for row in rows],
        )
    finally:
        con.close()
