"""The live queue for supervisors: backlog, ages, what breaches soon, alerts (METRICS.md s.3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from fastapi import APIRouter

from inbox_api.deps import InboxDep, SupervisorActor
from inbox_api.domain import Actor, Inbox

router = APIRouter(prefix="/v1/queue", tags=["queue"])
AGE_BUCKETS = (
    ("<5m", 5 * 60),
    ("5-10m", 10 * 60),
    ("10-20m", 20 * 60),
    ("20-60m", 60 * 60),
    ("1-4h", 4 * 3600),
    (">4h", None),
)
DUE_SOON_SECONDS = 300
ALERTS_WINDOW = dt.timedelta(hours=24)
ALERTS_MAX = 50
COUNT_KEYS = ("open", "unattended", "pending", "snoozed")


def age_bucket(seconds: float) -> str:
    for name, upper in AGE_BUCKETS:
        if upper is None or seconds < upper:
            return name
    return AGE_BUCKETS[-1][0]


def _counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)


def live_queue(inbox: Inbox, actor: Actor) -> dict[str, Any]:
    """The `/v1/queue/live` document; supervisors see their teams (and the team-less queue)."""
    now = inbox.store.clock()
    reader = inbox.store.reader()
    teams = None if actor.role == "admin" else list(actor.teams)
    rows = reader.execute(
        "select c.conversation_id, ct.profile_name, c.assignee_id, c.team_id, c.status, "
        "c.waiting_since from conversations c left join contacts ct using (contact_id) "
        "where c.status <> 'resolved' "
        "and (?::varchar[] is null or c.team_id is null or list_contains(?, c.team_id))",
        [teams, teams],
    ).fetchall()
    agents = reader.execute(
        "select user_id, teams from users where active and role = 'agent' "
        "and (?::varchar[] is null or len(list_intersect(teams, ?)) > 0) order by user_id",
        [teams, teams],
    ).fetchall()
    totals = _counts()
    by_agent: dict[tuple[str | None, str | None], dict[str, int]] = {}
    by_team: dict[str | None, dict[str, int]] = {}
    primary = {
        agent_id: (agent_id, agent_teams[0] if agent_teams else None)
        for agent_id, agent_teams in agents
    }
    for key in primary.values():
        by_agent[key] = _counts()
    ages = dict.fromkeys((name for name, _ in AGE_BUCKETS), 0)
    due_soon, breaches = [], []
    for conversation_id, name, agent_id, team_id, status, waiting_since in rows:
        keys = [status] if status in COUNT_KEYS else []
        unattended = status == "open" and waiting_since is not None
        if unattended:
            keys.append("unattended")
        agent_key = primary.get(agent_id) or (agent_id, team_id)
        for bucket in (totals, by_agent.setdefault(agent_key, _counts())):
            for key in keys:
                bucket[key] += 1
        team_bucket = by_team.setdefault(team_id, _counts())
        for key in keys:
            team_bucket[key] += 1
        if not unattended:
            continue
        ages[age_bucket((now - waiting_since).total_seconds())] += 1
        deadline = inbox.sla_deadline(waiting_since)
        left = (deadline - now).total_seconds()
        item = {
            "conversation_id": conversation_id,
            "contact_name": name,
            "agent_id": agent_id,
            "team_id": team_id,
            "waiting_since": waiting_since,
            "sla_deadline_at": deadline,
        }
        if left < 0:
            breaches.append({**item, "overdue_seconds": -left})
        elif left <= DUE_SOON_SECONDS:
            due_soon.append({**item, "seconds_left": left})
    due_soon.sort(key=lambda item: (item["seconds_left"], item["conversation_id"]))
    breaches.sort(key=lambda item: (-item["overdue_seconds"], item["conversation_id"]))
    alerts = reader.execute(
        "select conversation_id, occurred_at, payload from events "
        "where event_type = 'escalation' and occurred_at >= ? "
        "and (?::varchar[] is null or json_extract_string(payload, '$.team_id') is null "
        "or list_contains(?, json_extract_string(payload, '$.team_id'))) "
        "order by occurred_at desc, seq desc limit ?",
        [now - ALERTS_WINDOW, teams, teams, ALERTS_MAX],
    ).fetchall()
    return {
        "as_of": now,
        "totals": totals,
        "by_agent": [
            {"agent_id": agent_id, "team_id": team_id, **counts}
            for (agent_id, team_id), counts in sorted(
                by_agent.items(), key=lambda kv: (kv[0][0] is None, kv[0][0] or "", kv[0][1] or "")
            )
        ],
        "by_team": [
            {"team_id": team_id, **counts}
            for team_id, counts in sorted(by_team.items(), key=lambda kv: (kv[0] is None, kv[0]))
        ],
        "age_buckets": [{"bucket": name, "count": ages[name]} for name, _ in AGE_BUCKETS],
        "due_soon": due_soon,
        "breaches": breaches,
        "alerts": [
            {
                "conversation_id": conversation_id,
                "level": data.get("level"),
                "at": at,
                "agent_id": data.get("agent_id"),
                "to_agent_id": data.get("to_agent_id"),
            }
            for conversation_id, at, payload in alerts
            for data in (orjson.loads(payload),)
        ],
    }


@router.get("/live")
def queue_live(inbox: InboxDep, actor: SupervisorActor) -> dict[str, Any]:
    return live_queue(inbox, actor)
