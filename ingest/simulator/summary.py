"""A quick read of a batch of events: is this week plausible? (volumes, FRT, SLA, CSAT, reopens).

Cycles are derived from the events the way METRICS.md section 2 defines them, independently of
how the simulator built them, so the summary also checks the generated data. The pipeline's dbt
models remain the authority for reported metrics.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ingest.config import BusinessConfig
from ingest.simulator.contract import parse_instant


@dataclass
class _CycleFacts:
    opened_at: dt.datetime
    clock_start: dt.datetime
    had_bot: bool = False
    handoff: bool = False
    first_reply_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    resolution_kind: str | None = None
    escalated: bool = False
    reassigned: bool = False


@dataclass
class Summary:
    """Headline figures of a batch of events; `format()` prints them for a person."""

    events: int = 0
    events_by_type: dict[str, int] = field(default_factory=dict)
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    contacts: int = 0
    conversations: int = 0
    inbound_messages: int = 0
    outbound_messages: int = 0
    human_replies: int = 0
    cycles: int = 0
    cycles_after_hours: int = 0
    cycles_resolved: int = 0
    cycles_reopened: int = 0
    bot_only_cycles: int = 0
    auto_resolved_cycles: int = 0
    answered_cycles: int = 0
    frt_median_seconds: float | None = None
    frt_p90_seconds: float | None = None
    sla_met: int = 0
    sla_breached: int = 0
    sla_pending: int = 0
    sla_excluded: int = 0
    escalated_cycles: int = 0
    reassigned_cycles: int = 0
    csat_surveys: int = 0
    csat_answers: int = 0
    csat_satisfied: int = 0
    nps_answers: int = 0
    leads: int = 0
    conversions: int = 0
    inbound_by_local_hour: dict[int, int] = field(default_factory=dict)
    inbound_by_local_weekday: dict[int, int] = field(default_factory=dict)
    inbound_in_business_hours: int = 0
    cycles_by_local_hour: dict[int, int] = field(default_factory=dict)
    cycles_by_local_weekday: dict[int, int] = field(default_factory=dict)

    @property
    def reopen_rate(self) -> float | None:
        return _rate(self.cycles_reopened, self.cycles_resolved)

    @property
    def after_hours_share(self) -> float | None:
        return _rate(self.cycles_after_hours, self.cycles)

    @property
    def sla_compliance(self) -> float | None:
        return _rate(self.sla_met, self.sla_met + self.sla_breached)

    @property
    def csat_rate(self) -> float | None:
        return _rate(self.csat_satisfied, self.csat_answers)

    @property
    def csat_response_rate(self) -> float | None:
        return _rate(self.csat_answers, self.csat_surveys)

    def format(self) -> str:
        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.1%}"

        def minutes(value: float | None) -> str:
            return "n/a" if value is None else f"{value / 60:.1f} min"

        span = (
            f"{self.first_at:%Y-%m-%d %H:%M} → {self.last_at:%Y-%m-%d %H:%M} UTC"
            if self.first_at and self.last_at
            else "empty"
        )
        peak = sorted(self.cycles_by_local_hour.items(), key=lambda kv: -kv[1])[:3]
        lines = [
            f"events           {self.events:>9,}  ({span})",
            f"contacts         {self.contacts:>9,}  conversations {self.conversations:,}",
            f"messages         {self.inbound_messages:>9,} in / {self.outbound_messages:,} out"
            f"  ({self.human_replies:,} human replies)",
            f"cycles           {self.cycles:>9,}  after hours {pct(self.after_hours_share)}"
            f", busiest local hours {', '.join(f'{h:02d}h' for h, _ in peak)}",
            f"resolved         {self.cycles_resolved:>9,}  reopened {pct(self.reopen_rate)}"
            f", bot-only {self.bot_only_cycles:,}, auto-resolved {self.auto_resolved_cycles:,}",
            f"FRT              median {minutes(self.frt_median_seconds)}"
            f", p90 {minutes(self.frt_p90_seconds)} (n={self.answered_cycles:,})",
            f"SLA first reply  {pct(self.sla_compliance)}  met {self.sla_met:,}"
            f" / breached {self.sla_breached:,} (pending {self.sla_pending:,}"
            f", excluded {self.sla_excluded:,})",
            f"escalations      {self.escalated_cycles:,} cycles alerted"
            f", {self.reassigned_cycles:,} reassigned",
            f"CSAT             {pct(self.csat_rate)} satisfied of {self.csat_answers:,} answers"
            f" (response {pct(self.csat_response_rate)}), NPS answers {self.nps_answers:,}",
            f"leads            {self.leads:>9,}  conversions {self.conversions:,}",
        ]
        return "\n".join(lines)


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    # Same interpolation as DuckDB's quantile_cont.
    ordered = sorted(values)
    position = 0.9 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(events: Iterable[dict[str, Any]], config: BusinessConfig) -> Summary:
    """Summary of events (dicts with the import columns; payload as a dict or JSON text)."""
    calendar = config.business_calendar()
    sla = config.sla
    summary = Summary()
    by_type: Counter[str] = Counter()
    rows: dict[str, list[tuple[dt.datetime, int, dict[str, Any], dict[str, Any]]]] = defaultdict(
        list
    )
    contacts: set[str] = set()
    for index, event in enumerate(events):
        occurred = parse_instant(event["occurred_at"])
        if occurred is None:
            raise ValueError(f"event {event.get('event_id')!r}: occurred_at is not an instant")
        payload = event["payload"]
        if isinstance(payload, str):
            payload = json.loads(payload)
        by_type[event["event_type"]] += 1
        summary.first_at = min(summary.first_at or occurred, occurred)
        summary.last_at = max(summary.last_at or occurred, occurred)
        if event["event_type"] == "contact":
            contacts.add(payload["contact_id"])
        elif event["event_type"] == "lead":
            summary.leads += 1
        elif event["event_type"] == "conversion":
            summary.conversions += 1
        if event.get("conversation_id"):
            rows[event["conversation_id"]].append((occurred, index, event, payload))
    summary.events = sum(by_type.values())
    summary.events_by_type = dict(by_type)
    summary.contacts = len(contacts)
    summary.conversations = len(rows)
    as_of = summary.last_at
    cycles: list[_CycleFacts] = []
    frts: list[float] = []
    hours: Counter[int] = Counter()
    weekdays: Counter[int] = Counter()
    for conversation in rows.values():
        conversation.sort(key=lambda row: (row[0], row[1]))
        current: _CycleFacts | None = None
        bot_active = False
        for occurred, _, event, payload in conversation:
            event_type = event["event_type"]
            if event_type == "message":
                if payload["direction"] == "inbound":
                    summary.inbound_messages += 1
                    local = occurred.astimezone(calendar.tz)
                    hours[local.hour] += 1
                    weekdays[local.isoweekday()] += 1
                    summary.inbound_in_business_hours += calendar.is_business(occurred)
                    if payload["message_type"] != "reaction" and (
                        current is None or current.resolved_at is not None
                    ):
                        if current is not None:
                            summary.cycles_reopened += 1
                        current = _CycleFacts(occurred, occurred)
                        cycles.append(current)
                        bot_active = False
                else:
                    summary.outbound_messages += 1
                    if payload["sender_kind"] == "bot" and current and not current.handoff:
                        current.had_bot = bot_active = True
                    if payload["sender_kind"] == "agent":
                        summary.human_replies += 1
                        if current and current.first_reply_at is None and not current.resolved_at:
                            current.first_reply_at = occurred
            elif current is None or current.resolved_at is not None:
                if event_type == "survey_sent" and payload["kind"] == "csat":
                    summary.csat_surveys += 1
                elif event_type == "survey_answer":
                    _answer(summary, payload)
                continue
            elif event_type == "handoff":
                current.handoff = True
                bot_active = False
                current.clock_start = occurred
            elif event_type == "escalation":
                current.escalated = True
                current.reassigned |= payload["level"] == "reassign"
            elif event_type == "status_change" and payload["status"] == "resolved":
                current.resolved_at = occurred
                current.resolution_kind = payload.get("resolution_kind")
                current.had_bot |= bot_active
            elif event_type == "survey_sent" and payload["kind"] == "csat":
                summary.csat_surveys += 1
            elif event_type == "survey_answer":
                _answer(summary, payload)
    cycle_hours: Counter[int] = Counter()
    cycle_weekdays: Counter[int] = Counter()
    for cycle in cycles:
        _score_cycle(summary, cycle, calendar, sla, as_of, frts)
        local = cycle.opened_at.astimezone(calendar.tz)
        cycle_hours[local.hour] += 1
        cycle_weekdays[local.isoweekday()] += 1
    summary.cycles_by_local_hour = dict(sorted(cycle_hours.items()))
    summary.cycles_by_local_weekday = dict(sorted(cycle_weekdays.items()))
    summary.cycles = len(cycles)
    summary.answered_cycles = len(frts)
    summary.frt_median_seconds = statistics.median(frts) if frts else None
    summary.frt_p90_seconds = _p90(frts)
    summary.inbound_by_local_hour = dict(sorted(hours.items()))
    summary.inbound_by_local_weekday = dict(sorted(weekdays.items()))
    return summary


def _answer(summary: Summary, payload: dict[str, Any]) -> None:
    if payload["kind"] == "csat":
        summary.csat_answers += 1
        summary.csat_satisfied += payload["score"] >= 4
    else:
        summary.nps_answers += 1


def _score_cycle(
    summary: Summary,
    cycle: _CycleFacts,
    calendar: Any,
    sla: Any,
    as_of: dt.datetime | None,
    frts: list[float],
) -> None:
    business = calendar.is_business(cycle.clock_start)
    summary.cycles_after_hours += not business
    summary.cycles_resolved += cycle.resolved_at is not None
    summary.escalated_cycles += cycle.escalated
    summary.reassigned_cycles += cycle.reassigned
    bot_only = cycle.had_bot and not cycle.handoff
    summary.bot_only_cycles += bot_only
    summary.auto_resolved_cycles += cycle.resolution_kind == "auto_inactivity"
    reply = cycle.first_reply_at
    if reply is not None:
        frts.append(max(0.0, (reply - cycle.clock_start).total_seconds()))
    target = sla.business_target_seconds if business else sla.offhours_target_seconds
    deadline = (
        calendar.add_bsec(cycle.clock_start, target)
        if sla.clock == "business"
        else cycle.clock_start + dt.timedelta(seconds=target)
    )
    customer_closed = (
        cycle.resolution_kind == "customer"
        and cycle.resolved_at is not None
        and cycle.resolved_at <= deadline
    )
    if bot_only or (reply is None and customer_closed):
        summary.sla_excluded += 1
    elif reply is not None and reply <= deadline:
        summary.sla_met += 1
    elif reply is not None or (as_of is not None and deadline <= as_of):
        summary.sla_breached += 1
    else:
        summary.sla_pending += 1
