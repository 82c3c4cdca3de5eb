"""The per-event simulator: deterministic, valid per docs/events.md, and a plausible week."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from ingest.calendar import BusinessCalendar
from ingest.config import BusinessConfig
from ingest.simulator import INBOX_ID, Profile, generate, summarize, validate_event

# Mirrors conftest.WEEK_END (test modules are not a package here).
WEEK_END = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)


def test_same_seed_same_events_and_different_seed_differs(
    config: BusinessConfig, week: list[dict[str, Any]]
) -> None:
    again = list(generate(config, 7, 6, 42, WEEK_END))
    assert again == week
    other = list(generate(config, 7, 6, 43, WEEK_END))
    assert other != week
    assert {e["event_id"] for e in week} & {e["event_id"] for e in other} == set()


def test_every_event_follows_the_contract(week: list[dict[str, Any]]) -> None:
    problems = {e["event_id"]: validate_event(e) for e in week}
    assert {k: v for k, v in problems.items() if v} == {}
    ids = [e["event_id"] for e in week]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("sim:42:") for i in ids)
    times = [dt.datetime.fromisoformat(e["occurred_at"]) for e in week]
    assert times == sorted(times)
    assert max(times) < WEEK_END
    conversational = [e for e in week if e["conversation_id"]]
    assert all(e["inbox_id"] == INBOX_ID for e in conversational)
    assert all(e["conversation_id"] == f"{INBOX_ID}:{e['contact_id']}" for e in conversational)


def test_reference_events_come_first(week: list[dict[str, Any]]) -> None:
    kinds = [e["event_type"] for e in week]
    first_other = next(i for i, k in enumerate(kinds) if k not in ("team", "agent"))
    assert set(kinds[:first_other]) == {"team", "agent"}
    seen_contacts: set[str] = set()
    for event in week:
        if event["event_type"] == "contact":
            seen_contacts.add(event["contact_id"])
        elif event["contact_id"]:
            assert event["contact_id"] in seen_contacts, event


def test_week_covers_every_kind_of_fact(week: list[dict[str, Any]]) -> None:
    kinds = Counter(e["event_type"] for e in week)
    for kind in (
        "contact", "agent", "team", "message", "message_status", "assignment", "handoff",
        "status_change", "topic", "tag", "note", "escalation", "survey_sent", "survey_answer",
        "lead", "conversion",
    ):  # fmt: skip
        assert kinds[kind] > 0, kind
    payloads = [(e["event_type"], e["payload"], e["actor_kind"]) for e in week]
    reasons = {p["reason"] for t, p, _ in payloads if t == "assignment"}
    assert {"router", "sla", "transfer"} <= reasons
    resolutions = {p.get("resolution_kind") for t, p, _ in payloads if t == "status_change"}
    assert {"agent", "bot", "auto_inactivity", "customer"} <= resolutions
    assert {p["level"] for t, p, _ in payloads if t == "escalation"} == {"alert", "reassign"}
    automations = {p["automation_kind"] for t, p, _ in payloads if t == "message"}
    assert {"off_hours", "survey"} <= automations
    assert {p["status"] for t, p, _ in payloads if t == "message_status"} >= {
        "sent", "delivered", "read",
    }  # fmt: skip
    assert {a for t, _, a in payloads if t == "message"} >= {"customer", "agent", "bot"}
    assert any(p["message_type"] == "template" for t, p, _ in payloads if t == "message")


def test_escalations_follow_the_sla_engine(
    config: BusinessConfig, week: list[dict[str, Any]]
) -> None:
    """Alert at 10 and reassign at 20 business minutes of waiting, never while closed."""
    calendar = BusinessCalendar(config.calendar)
    for event in week:
        if event["event_type"] != "escalation":
            continue
        at = dt.datetime.fromisoformat(event["occurred_at"])
        since = dt.datetime.fromisoformat(event["payload"]["waiting_since"])
        expected = 600 if event["payload"]["level"] == "alert" else 1200
        assert abs(calendar.bsec(since, at) - expected) < 0.01, event
        assert calendar.is_business(at - dt.timedelta(milliseconds=1)), event


def test_every_cycle_has_an_end_or_is_recent(week: list[dict[str, Any]]) -> None:
    """No conversation is left open by the generator except cycles still running at the end."""
    by_conversation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in week:
        if event["conversation_id"]:
            by_conversation[event["conversation_id"]].append(event)
    stale = []
    for conversation_id, events in by_conversation.items():
        status, opened = None, None
        for event in events:
            payload = event["payload"]
            inbound = event["event_type"] == "message" and payload["direction"] == "inbound"
            if inbound and status in (None, "resolved"):
                status, opened = "open", dt.datetime.fromisoformat(event["occurred_at"])
            elif event["event_type"] == "status_change":
                status = payload["status"]
        if status != "resolved" and opened < WEEK_END - dt.timedelta(days=3):
            stale.append(conversation_id)
    assert len(stale) <= 2, stale


def test_a_week_is_plausible(config: BusinessConfig, week: list[dict[str, Any]]) -> None:
    profile = Profile()
    summary = summarize(week, config)
    # Volume: about 36 cycles per agent per working day, far fewer at the weekend.
    assert 6 * 36 * 4 < summary.cycles < 6 * 36 * 7
    by_weekday = summary.cycles_by_local_weekday
    busiest_weekend_day = max(by_weekday.get(6, 0), by_weekday.get(7, 0))
    assert busiest_weekend_day < 0.4 * min(by_weekday[d] for d in range(1, 6))
    # Daily shape: morning and afternoon peaks in business hours, quiet nights.
    hours = summary.cycles_by_local_hour
    business = sum(hours.get(h, 0) for h in range(9, 18))
    assert business > 0.6 * summary.cycles
    assert max(hours, key=hours.get) in range(9, 18)
    morning = max(hours.get(h, 0) for h in (10, 11, 12))
    afternoon = max(hours.get(h, 0) for h in (15, 16, 17))
    assert hours.get(14, 0) < morning and hours.get(14, 0) < afternoon * 1.1
    assert sum(hours.get(h, 0) for h in range(0, 6)) < 0.05 * summary.cycles
    low, high = profile.after_hours_share_bounds
    assert low <= summary.after_hours_share <= high
    low, high = profile.reopen_rate_bounds
    assert low <= summary.reopen_rate <= high
    # Service levels a supervisor would believe.
    assert 0.5 < summary.sla_compliance < 0.95
    assert 60 < summary.frt_median_seconds < 15 * 60
    assert 0.25 < summary.csat_response_rate < 0.42
    assert 0.4 < summary.csat_rate < 0.9
    assert 0 < summary.bot_only_cycles < 0.2 * summary.cycles
    assert 0 < summary.escalated_cycles < 0.35 * summary.cycles
    assert summary.reassigned_cycles <= summary.escalated_cycles
    assert summary.leads > 0
    # Customers write several messages per cycle.
    assert summary.inbound_messages > 2 * summary.cycles
    text = summary.format()
    assert "FRT" in text and "SLA" in text and "CSAT" in text and "reopened" in text


def test_more_agents_more_traffic_and_agents_cloned(config: BusinessConfig) -> None:
    end = dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC)
    small = list(generate(config, 2, 2, 1, end))
    large = list(generate(config, 2, 12, 1, end))
    assert len(large) > 3 * len(small)
    agents = [e["payload"]["agent_id"] for e in large if e["event_type"] == "agent"]
    assert len(agents) == len(set(agents)) == 12 + 1  # plus the configured supervisor
    assert "ana2" in agents


def test_holidays_are_quiet(config: BusinessConfig) -> None:
    """Mon 16 Nov 2026 is a Mexican holiday: far fewer cycles than the Tuesday after it."""
    events = list(generate(config, 3, 6, 5, dt.datetime(2026, 11, 18, 6, tzinfo=dt.UTC)))
    summary = summarize(events, config)
    by_weekday = summary.cycles_by_local_weekday
    assert by_weekday.get(1, 0) < 0.3 * by_weekday[2]


def test_bad_arguments_are_named(config: BusinessConfig) -> None:
    import pytest

    with pytest.raises(ValueError, match="agents"):
        list(generate(config, 1, 0, 1, WEEK_END))
    with pytest.raises(ValueError, match="days"):
        list(generate(config, 0, 3, 1, WEEK_END))
    with pytest.raises(ValueError, match="aware"):
        list(generate(config, 1, 3, 1, dt.datetime(2026, 11, 20)))
