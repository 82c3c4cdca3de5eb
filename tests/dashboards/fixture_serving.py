"""A small serving snapshot (every table of docs/serving.md) whose key figures are known.

Week 2026-W47 holds ten care cycles on Tue 17 and Wed 18 Nov 2026 (10:00 local, business hours):
six for sales (Ana), four for support (Carla; the last one reassigned to Diego). The reporting
rows of that week are aggregated here from those cycles with the METRICS.md rules, so the marts
and the reporting tables agree; week 2026-W46 only has reporting rows, with rounder figures, so
week-over-week deltas are known too.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

TZ = ZoneInfo("America/Mexico_City")
WEEK = "2026-W47"
WEEK_START = dt.date(2026, 11, 16)
PREV_WEEK = "2026-W46"
PREV_WEEK_START = dt.date(2026, 11, 9)

# The figures every consumer must show for WEEK (grain all) and PREV_WEEK.
EXPECTED = {
    "cycles": 10,
    "frt_median_seconds": 240.0,
    "frt_p90_seconds": 930.0,
    "sla_met": 8,
    "sla_breached": 2,
    "sla_rate": 0.8,
    "art_median_seconds": 3600.0,
    "csat_rate": 0.8,
    "nps": 25,
    "conversion_rate": 0.5,
    "revenue": 1500.0,
    "backlog_open": 3,
    "breached_cycles": ["c06", "c10"],
    "csat_low_cycles": ["c06"],
    "prev_frt_median_seconds": 300.0,
    "prev_sla_rate": 0.7,
    "prev_csat_rate": 0.75,
    "prev_nps": 0,
    "prev_backlog_open": 5,
}

SALES_INBOX = "5215510000001"
SUPPORT_INBOX = "5215520000002"

TABLES: dict[str, str] = {
    "fct_messages": """message_id varchar, conversation_id varchar, cycle_id varchar,
        inbox_id varchar, contact_id varchar, direction varchar, sender_kind varchar,
        agent_id varchar, message_type varchar, automation_kind varchar, is_template boolean,
        is_human_reply boolean, sent_at timestamptz, sent_date date, delivered_at timestamptz,
        read_at timestamptz, failed_at timestamptz, error_code varchar""",
    "fct_cycles": """cycle_id varchar, conversation_id varchar, cycle_number bigint,
        contact_id varchar, inbox_id varchar, team_id varchar, topic varchar, tags varchar,
        opened_at timestamptz, opened_date date, clock_start_at timestamptz,
        clock_start_date date, is_business_start boolean, had_bot boolean,
        handoff_at timestamptz, first_response_at timestamptz, first_responder_agent_id varchar,
        frt_seconds double, frt_business_seconds double, is_answered boolean,
        is_reply_before_clock boolean, sla_target_seconds double, sla_deadline_at timestamptz,
        sla_status varchar, sla_owner_agent_id varchar, sla_owner_team_id varchar,
        resolved_at timestamptz, resolved_date date, resolution_kind varchar,
        resolving_agent_id varchar, resolution_seconds double,
        resolution_business_seconds double, is_in_art boolean, is_reopened boolean,
        was_escalated boolean, was_reassigned boolean, csat_score integer, nps_score integer,
        is_lead boolean, converted_at timestamptz, customer_message_count bigint,
        agent_message_count bigint""",
    "fct_backlog_snapshots": """snapshot_at timestamptz, snapshot_date date,
        snapshot_kind varchar, team_id varchar, agent_id varchar, status varchar,
        age_bucket varchar, conversation_count bigint, unattended_count bigint""",
    "fct_escalations": """escalation_id varchar, cycle_id varchar, conversation_id varchar,
        level varchar, escalated_at timestamptz, escalated_date date,
        waiting_since_at timestamptz, from_agent_id varchar, to_agent_id varchar,
        team_id varchar""",
    "fct_csat_responses": """survey_id varchar, cycle_id varchar, conversation_id varchar,
        survey_kind varchar, sent_at timestamptz, answered_at timestamptz, answered_date date,
        score integer, is_satisfied boolean, nps_category varchar, agent_id varchar,
        team_id varchar""",
    "fct_leads": """lead_id varchar, cycle_id varchar, conversation_id varchar,
        contact_id varchar, lead_at timestamptz, lead_date date, lead_week_start_date date,
        owner_agent_id varchar, team_id varchar, is_converted boolean, converted_at timestamptz,
        conversion_kind varchar, revenue_amount double, days_to_convert double,
        is_provisional boolean""",
    "dim_agents": """agent_id varchar, agent_name varchar, team_id varchar, skills varchar,
        capacity integer, is_active boolean""",
    "dim_teams": "team_id varchar, team_name varchar",
    "dim_contacts": """contact_id varchar, inbox_id varchar, first_seen_at timestamptz,
        cycle_count bigint""",
    "dim_business_intervals": "local_date date, open_at timestamptz, close_at timestamptz",
    "rpt_sla_breaches": """cycle_id varchar, conversation_id varchar, team_id varchar,
        owner_agent_id varchar, topic varchar, clock_start_at timestamptz,
        sla_deadline_at timestamptz, first_response_at timestamptz, overdue_seconds double,
        is_answered boolean, week_start_date date, iso_week varchar""",
    "rpt_hourly_heatmap": """weekday integer, hour integer, team_id varchar,
        cycles_opened_count bigint, weeks_count bigint, avg_cycles_per_week double,
        agents_active_avg double, sla_breached_count bigint""",
    "rpt_contact_reasons": """week_start_date date, iso_week varchar, team_id varchar,
        reason_kind varchar, reason varchar, cycles_count bigint""",
    "rpt_conversion_cohorts": """lead_week_start_date date, iso_week varchar, team_id varchar,
        leads_count bigint, converted_count bigint, conversion_rate double,
        revenue_amount double, is_provisional boolean""",
}

KPI_COLUMNS = """grain varchar, team_id varchar, agent_id varchar, cycles_opened_count bigint,
    frt_n bigint, frt_mean_seconds double, frt_median_seconds double, frt_p90_seconds double,
    frt_business_mean_seconds double, frt_business_median_seconds double,
    frt_business_p90_seconds double, unanswered_count bigint, resolved_count bigint,
    art_n bigint, art_mean_seconds double, art_median_seconds double, art_p90_seconds double,
    art_business_mean_seconds double, art_business_median_seconds double,
    art_business_p90_seconds double, reopened_count bigint, reopen_rate double,
    sla_met_count bigint, sla_breached_count bigint, sla_pending_count bigint,
    sla_excluded_count bigint, sla_compliance_rate double, surveys_sent_count bigint,
    csat_responses_count bigint, csat_satisfied_count bigint, csat_rate double,
    csat_response_rate double, nps_responses_count bigint, nps_promoters_count bigint,
    nps_detractors_count bigint, nps_score integer, leads_count bigint,
    converted_count bigint, conversion_rate double, revenue_amount double,
    escalated_count bigint, reassigned_count bigint, escalated_rate double,
    reassigned_rate double, is_low_confidence boolean"""
TABLES["rpt_kpis_daily"] = "kpi_date date, " + KPI_COLUMNS
TABLES["rpt_kpis_weekly"] = "week_start_date date, iso_week varchar, " + KPI_COLUMNS

AGENT_TEAM = {"ana": "sales", "beto": "sales", "carla": "support", "diego": "support"}


def _local(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(dt.UTC)


# (cycle, day, minute past 10:00, team, frt s, responder, owner at deadline, resolver, ART s,
#  resolution kind, csat, nps, tags, is_lead, revenue if converted)
_TUE, _WED = dt.date(2026, 11, 17), dt.date(2026, 11, 18)
_CYCLE_SPECS = [
    ("c01", _TUE, 0, "sales", 60, "ana", "ana", "ana", 3600, "agent", 5, 10, "", True, 1000.0),
    ("c02", _TUE, 10, "sales", 120, "ana", "ana", "ana", 3600, "agent", 5, 9, "vip", True, None),
    (
        "c03",
        _TUE,
        20,
        "sales",
        180,
        "ana",
        "ana",
        "ana",
        3600,
        "agent",
        4,
        None,
        "vip,wholesale",
        True,
        500.0,
    ),
    ("c04", _TUE, 30, "sales", 200, "ana", "ana", "ana", 3600, "agent", None, None, "", True, None),
    (
        "c05",
        _TUE,
        40,
        "sales",
        240,
        "ana",
        "ana",
        "ana",
        3600,
        "auto_inactivity",
        None,
        None,
        "",
        False,
        None,
    ),
    ("c06", _WED, 0, "sales", 900, "ana", "ana", "ana", 3600, "agent", 2, None, "", False, None),
    (
        "c07",
        _WED,
        10,
        "support",
        240,
        "carla",
        "carla",
        "carla",
        3600,
        "agent",
        4,
        3,
        "",
        False,
        None,
    ),
    (
        "c08",
        _WED,
        20,
        "support",
        280,
        "carla",
        "carla",
        "carla",
        3600,
        "agent",
        None,
        8,
        "warranty",
        False,
        None,
    ),
    (
        "c09",
        _WED,
        30,
        "support",
        300,
        "carla",
        "carla",
        "carla",
        3600,
        "agent",
        None,
        None,
        "",
        False,
        None,
    ),
    (
        "c10",
        _WED,
        40,
        "support",
        1200,
        "diego",
        "carla",
        "diego",
        7200,
        "agent",
        None,
        None,
        "",
        False,
        None,
    ),
]
_CONVERTED_REVENUE = {"c01": 1000.0, "c03": 500.0}
_TOPIC = {"sales": "sales_lead", "support": "after_sales"}


def cycles() -> list[dict[str, Any]]:
    """The fct_cycles rows of WEEK."""
    rows = []
    for spec in _CYCLE_SPECS:
        (
            cid,
            day,
            minute,
            team,
            frt,
            responder,
            owner,
            resolver,
            art,
            kind,
            csat,
            nps,
            tags,
            is_lead,
            _revenue,
        ) = spec
        start = _local(day, 10, minute)
        target = 300.0
        resolved = start + dt.timedelta(seconds=art)
        converted = cid in _CONVERTED_REVENUE
        rows.append(
            {
                "cycle_id": cid,
                "conversation_id": f"conv-{cid}",
                "cycle_number": 1,
                "contact_id": f"contact-{cid}",
                "inbox_id": SALES_INBOX if team == "sales" else SUPPORT_INBOX,
                "team_id": team,
                "topic": _TOPIC[team],
                "tags": tags,
                "opened_at": start,
                "opened_date": day,
                "clock_start_at": start,
                "clock_start_date": day,
                "is_business_start": True,
                "had_bot": False,
                "handoff_at": None,
                "first_response_at": start + dt.timedelta(seconds=frt),
                "first_responder_agent_id": responder,
                "frt_seconds": float(frt),
                "frt_business_seconds": float(frt),
                "is_answered": True,
                "is_reply_before_clock": False,
                "sla_target_seconds": target,
                "sla_deadline_at": start + dt.timedelta(seconds=target),
                "sla_status": "met" if frt <= target else "breached",
                "sla_owner_agent_id": owner,
                "sla_owner_team_id": team,
                "resolved_at": resolved,
                "resolved_date": day,
                "resolution_kind": kind,
                "resolving_agent_id": resolver,
                "resolution_seconds": float(art),
                "resolution_business_seconds": float(art),
                "is_in_art": kind == "agent",
                "is_reopened": False,
                "was_escalated": cid in ("c06", "c10"),
                "was_reassigned": cid == "c10",
                "csat_score": csat,
                "nps_score": nps,
                "is_lead": is_lead,
                "converted_at": start + dt.timedelta(days=2) if converted else None,
                "customer_message_count": 2,
                "agent_message_count": 1,
            }
        )
    return rows


def _quantile(values: list[float], q: float) -> float | None:
    """DuckDB's quantile_cont: linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _kpis(rows: list[dict[str, Any]], credit: Callable[[dict, str], bool]) -> dict[str, Any]:
    """Aggregate cycles into one KPI row; `credit(row, metric)` says which rows count."""
    frt_rows = [r for r in rows if credit(r, "frt") and r["is_answered"]]
    frt = [r["frt_seconds"] for r in frt_rows]
    art_rows = [r for r in rows if credit(r, "art") and r["is_in_art"]]
    art = [r["resolution_seconds"] for r in art_rows]
    sla_rows = [r for r in rows if credit(r, "sla")]
    met = sum(r["sla_status"] == "met" for r in sla_rows)
    breached = sum(r["sla_status"] == "breached" for r in sla_rows)
    csat_rows = [r for r in rows if credit(r, "art") and r["csat_score"] is not None]
    satisfied = sum(r["csat_score"] >= 4 for r in csat_rows)
    nps_rows = [r for r in rows if credit(r, "art") and r["nps_score"] is not None]
    promoters = sum(r["nps_score"] >= 9 for r in nps_rows)
    detractors = sum(r["nps_score"] <= 6 for r in nps_rows)
    surveys = sum(1 for r in rows if credit(r, "art") and r["resolution_kind"] == "agent")
    lead_rows = [r for r in rows if credit(r, "lead") and r["is_lead"]]
    converted = [r for r in lead_rows if r["converted_at"] is not None]
    opened = [r for r in rows if credit(r, "sla")]
    escalated = sum(r["was_escalated"] for r in opened)
    reassigned = sum(r["was_reassigned"] for r in opened)
    return {
        "cycles_opened_count": len(opened),
        "frt_n": len(frt),
        "frt_mean_seconds": statistics.fmean(frt) if frt else None,
        "frt_median_seconds": _quantile(frt, 0.5),
        "frt_p90_seconds": _quantile(frt, 0.9),
        "frt_business_mean_seconds": statistics.fmean(frt) if frt else None,
        "frt_business_median_seconds": _quantile(frt, 0.5),
        "frt_business_p90_seconds": _quantile(frt, 0.9),
        "unanswered_count": 0,
        "resolved_count": sum(1 for r in rows if credit(r, "art")),
        "art_n": len(art),
        "art_mean_seconds": statistics.fmean(art) if art else None,
        "art_median_seconds": _quantile(art, 0.5),
        "art_p90_seconds": _quantile(art, 0.9),
        # Business ART is shorter than calendar on purpose: the toggle must visibly switch.
        "art_business_mean_seconds": statistics.fmean(art) / 2 if art else None,
        "art_business_median_seconds": (_quantile(art, 0.5) or 0) / 2 if art else None,
        "art_business_p90_seconds": (_quantile(art, 0.9) or 0) / 2 if art else None,
        "reopened_count": 0,
        "reopen_rate": 0.0 if art else None,
        "sla_met_count": met,
        "sla_breached_count": breached,
        "sla_pending_count": 0,
        "sla_excluded_count": 0,
        "sla_compliance_rate": _rate(met, met + breached),
        "surveys_sent_count": surveys,
        "csat_responses_count": len(csat_rows),
        "csat_satisfied_count": satisfied,
        "csat_rate": _rate(satisfied, len(csat_rows)),
        "csat_response_rate": _rate(len(csat_rows), surveys),
        "nps_responses_count": len(nps_rows),
        "nps_promoters_count": promoters,
        "nps_detractors_count": detractors,
        "nps_score": round(100 * (promoters - detractors) / len(nps_rows)) if nps_rows else None,
        "leads_count": len(lead_rows),
        "converted_count": len(converted),
        "conversion_rate": _rate(len(converted), len(lead_rows)),
        "revenue_amount": sum(_CONVERTED_REVENUE.get(r["cycle_id"], 0.0) for r in converted),
        "escalated_count": escalated,
        "reassigned_count": reassigned,
        "escalated_rate": _rate(escalated, len(opened)),
        "reassigned_rate": _rate(reassigned, len(opened)),
        "is_low_confidence": len(frt) < 10,
    }


_AGENT_CREDIT_COLUMN = {
    "frt": "first_responder_agent_id",
    "sla": "sla_owner_agent_id",
    "art": "resolving_agent_id",
    "lead": "sla_owner_agent_id",
}


def _kpi_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [{"grain": "all", "team_id": "all", "agent_id": "all", **_kpis(rows, lambda r, m: True)}]
    for team in sorted({r["team_id"] for r in rows}):
        team_rows = [r for r in rows if r["team_id"] == team]
        out.append(
            {
                "grain": "team",
                "team_id": team,
                "agent_id": "all",
                **_kpis(team_rows, lambda r, m: True),
            }
        )
    agents = {r[column] for r in rows for column in _AGENT_CREDIT_COLUMN.values()}
    for agent in sorted(agents):
        kpis = _kpis(rows, lambda r, m, a=agent: r[_AGENT_CREDIT_COLUMN[m]] == a)
        out.append({"grain": "agent", "team_id": AGENT_TEAM[agent], "agent_id": agent, **kpis})
    return out


def _prev_week_rows() -> list[dict[str, Any]]:
    base = {
        "week_start_date": PREV_WEEK_START,
        "iso_week": PREV_WEEK,
        "unanswered_count": 0,
        "sla_pending_count": 0,
        "sla_excluded_count": 0,
        "reopened_count": 0,
        "reopen_rate": 0.0,
        "is_low_confidence": False,
    }
    all_row = {
        **base,
        "grain": "all",
        "team_id": "all",
        "agent_id": "all",
        "cycles_opened_count": 10,
        "frt_n": 10,
        "frt_mean_seconds": 400.0,
        "frt_median_seconds": 300.0,
        "frt_p90_seconds": 1000.0,
        "frt_business_mean_seconds": 400.0,
        "frt_business_median_seconds": 300.0,
        "frt_business_p90_seconds": 1000.0,
        "resolved_count": 10,
        "art_n": 10,
        "art_mean_seconds": 4000.0,
        "art_median_seconds": 4000.0,
        "art_p90_seconds": 8000.0,
        "art_business_mean_seconds": 2000.0,
        "art_business_median_seconds": 2000.0,
        "art_business_p90_seconds": 4000.0,
        "sla_met_count": 7,
        "sla_breached_count": 3,
        "sla_compliance_rate": 0.7,
        "surveys_sent_count": 8,
        "csat_responses_count": 4,
        "csat_satisfied_count": 3,
        "csat_rate": 0.75,
        "csat_response_rate": 0.5,
        "nps_responses_count": 4,
        "nps_promoters_count": 1,
        "nps_detractors_count": 1,
        "nps_score": 0,
        "leads_count": 3,
        "converted_count": 1,
        "conversion_rate": 1 / 3,
        "revenue_amount": 200.0,
        "escalated_count": 3,
        "reassigned_count": 1,
        "escalated_rate": 0.3,
        "reassigned_rate": 0.1,
    }
    sales = {
        **all_row,
        "grain": "team",
        "team_id": "sales",
        "cycles_opened_count": 5,
        "frt_n": 5,
        "sla_met_count": 4,
        "sla_breached_count": 1,
        "sla_compliance_rate": 0.8,
        "is_low_confidence": True,
    }
    support = {
        **all_row,
        "grain": "team",
        "team_id": "support",
        "cycles_opened_count": 5,
        "frt_n": 5,
        "sla_met_count": 3,
        "sla_breached_count": 2,
        "sla_compliance_rate": 0.6,
        "is_low_confidence": True,
    }
    return [all_row, sales, support]


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[dict[str, Any]]) -> None:
    columns = [
        line.strip().split()[0]
        for line in TABLES[table].replace("\n", " ").split(",")
        if line.strip()
    ]
    placeholders = ", ".join("?" for _ in columns)
    con.executemany(
        f"insert into {table} ({', '.join(columns)}) values ({placeholders})",
        [[row.get(column) for column in columns] for row in rows],
    )


def _messages(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        inbound = {
            "message_id": f"wamid.{r['cycle_id']}.in",
            "conversation_id": r["conversation_id"],
            "cycle_id": r["cycle_id"],
            "inbox_id": r["inbox_id"],
            "contact_id": r["contact_id"],
            "direction": "inbound",
            "sender_kind": "customer",
            "agent_id": None,
            "message_type": "text",
            "is_template": False,
            "is_human_reply": False,
            "sent_at": r["opened_at"],
            "sent_date": r["opened_date"],
        }
        reply = {
            **inbound,
            "message_id": f"wamid.{r['cycle_id']}.out",
            "direction": "outbound",
            "sender_kind": "agent",
            "agent_id": r["first_responder_agent_id"],
            "is_human_reply": True,
            "sent_at": r["first_response_at"],
            "delivered_at": r["first_response_at"] + dt.timedelta(seconds=2),
            "read_at": r["first_response_at"] + dt.timedelta(seconds=30),
        }
        followup = {
            **inbound,
            "message_id": f"wamid.{r['cycle_id']}.in2",
            "sent_at": r["first_response_at"] + dt.timedelta(seconds=60),
        }
        out += [inbound, reply, followup]
    return out


def _escalations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {r["cycle_id"]: r for r in rows}
    specs = [
        ("e1", "c06", "alert", 600, "ana", None),
        ("e2", "c10", "alert", 600, "carla", None),
        ("e3", "c10", "reassign", 1200, "carla", "diego"),
    ]
    out = []
    for eid, cid, level, after, src, dst in specs:
        cycle = by_id[cid]
        at = cycle["clock_start_at"] + dt.timedelta(seconds=after)
        out.append(
            {
                "escalation_id": eid,
                "cycle_id": cid,
                "conversation_id": cycle["conversation_id"],
                "level": level,
                "escalated_at": at,
                "escalated_date": cycle["clock_start_date"],
                "waiting_since_at": cycle["clock_start_at"],
                "from_agent_id": src,
                "to_agent_id": dst,
                "team_id": cycle["team_id"],
            }
        )
    return out


def _surveys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        sent = r["resolved_at"] + dt.timedelta(minutes=1)
        for kind in ("csat", "nps"):
            score = r[f"{kind}_score"]
            if score is None:
                continue
            out.append(
                {
                    "survey_id": f"s-{kind}-{r['cycle_id']}",
                    "cycle_id": r["cycle_id"],
                    "conversation_id": r["conversation_id"],
                    "survey_kind": kind,
                    "sent_at": sent,
                    "answered_at": sent + dt.timedelta(minutes=5),
                    "answered_date": r["resolved_date"],
                    "score": score,
                    "is_satisfied": score >= 4 if kind == "csat" else None,
                    "nps_category": None
                    if kind == "csat"
                    else ("promoter" if score >= 9 else "detractor" if score <= 6 else "passive"),
                    "agent_id": r["resolving_agent_id"],
                    "team_id": r["team_id"],
                }
            )
    return out


def _leads(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "lead_id": f"lead-{r['cycle_id']}",
            "cycle_id": r["cycle_id"],
            "conversation_id": r["conversation_id"],
            "contact_id": r["contact_id"],
            "lead_at": r["first_response_at"],
            "lead_date": r["clock_start_date"],
            "lead_week_start_date": WEEK_START,
            "owner_agent_id": r["sla_owner_agent_id"],
            "team_id": r["team_id"],
            "is_converted": r["converted_at"] is not None,
            "converted_at": r["converted_at"],
            "conversion_kind": "sale" if r["converted_at"] else None,
            "revenue_amount": _CONVERTED_REVENUE.get(r["cycle_id"]),
            "days_to_convert": 2 if r["converted_at"] else None,
            "is_provisional": True,
        }
        for r in rows
        if r["is_lead"]
    ]


def _backlog() -> list[dict[str, Any]]:
    def snap(day: dt.date, team: str, agent: str, status: str, bucket: str, n: int, un: int):
        return {
            "snapshot_at": _local(day, 18, 0),
            "snapshot_date": day,
            "snapshot_kind": "close",
            "team_id": team,
            "agent_id": agent,
            "status": status,
            "age_bucket": bucket,
            "conversation_count": n,
            "unattended_count": un,
        }

    fri, prev_fri, thu = dt.date(2026, 11, 20), dt.date(2026, 11, 13), dt.date(2026, 11, 19)
    return [
        snap(thu, "sales", "ana", "open", "answered", 7, 0),
        snap(fri, "support", "carla", "open", "20-60m", 2, 2),
        snap(fri, "sales", "ana", "open", "answered", 1, 0),
        snap(fri, "support", "carla", "pending", "answered", 1, 0),
        snap(prev_fri, "sales", "ana", "open", "answered", 3, 0),
        snap(prev_fri, "support", "carla", "open", "<5m", 2, 2),
    ]


def _breaches(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "cycle_id": r["cycle_id"],
            "conversation_id": r["conversation_id"],
            "team_id": r["team_id"],
            "owner_agent_id": r["sla_owner_agent_id"],
            "topic": r["topic"],
            "clock_start_at": r["clock_start_at"],
            "sla_deadline_at": r["sla_deadline_at"],
            "first_response_at": r["first_response_at"],
            "overdue_seconds": r["frt_seconds"] - r["sla_target_seconds"],
            "is_answered": True,
            "week_start_date": WEEK_START,
            "iso_week": WEEK,
        }
        for r in rows
        if r["sla_status"] == "breached"
    ]


def _heatmap() -> list[dict[str, Any]]:
    def slot(weekday: int, team: str, n: int, agents: float, breached: int) -> dict[str, Any]:
        return {
            "weekday": weekday,
            "hour": 10,
            "team_id": team,
            "cycles_opened_count": n,
            "weeks_count": 1,
            "avg_cycles_per_week": float(n),
            "agents_active_avg": agents,
            "sla_breached_count": breached,
        }

    return [slot(2, "sales", 5, 1.0, 0), slot(3, "sales", 1, 1.0, 1), slot(3, "support", 4, 2.0, 1)]


def _reasons() -> list[dict[str, Any]]:
    specs = [
        (WEEK_START, WEEK, "sales", "topic", "sales_lead", 6),
        (WEEK_START, WEEK, "support", "topic", "after_sales", 4),
        (WEEK_START, WEEK, "sales", "tag", "vip", 2),
        (WEEK_START, WEEK, "sales", "tag", "wholesale", 1),
        (WEEK_START, WEEK, "support", "tag", "warranty", 1),
        (PREV_WEEK_START, PREV_WEEK, "sales", "topic", "sales_lead", 5),
        (PREV_WEEK_START, PREV_WEEK, "support", "topic", "after_sales", 5),
    ]
    keys = ("week_start_date", "iso_week", "team_id", "reason_kind", "reason", "cycles_count")
    return [dict(zip(keys, spec, strict=True)) for spec in specs]


def _cohorts() -> list[dict[str, Any]]:
    specs = [
        (dt.date(2026, 10, 19), "2026-W43", "sales", 5, 3, 0.6, 2500.0, False),
        (PREV_WEEK_START, PREV_WEEK, "sales", 3, 1, 1 / 3, 200.0, True),
        (WEEK_START, WEEK, "sales", 4, 2, 0.5, 1500.0, True),
    ]
    keys = (
        "lead_week_start_date",
        "iso_week",
        "team_id",
        "leads_count",
        "converted_count",
        "conversion_rate",
        "revenue_amount",
        "is_provisional",
    )
    return [dict(zip(keys, spec, strict=True)) for spec in specs]


def build_fixture_serving(path: Path) -> Path:
    """Write the fixture snapshot to `path` (replaced if it exists) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    rows = cycles()
    con = duckdb.connect(str(path))
    try:
        for table, columns in TABLES.items():
            con.execute(f"create table {table} ({columns})")
        _insert(con, "fct_cycles", rows)
        _insert(con, "fct_messages", _messages(rows))
        _insert(con, "fct_escalations", _escalations(rows))
        _insert(con, "fct_csat_responses", _surveys(rows))
        _insert(con, "fct_leads", _leads(rows))
        _insert(con, "fct_backlog_snapshots", _backlog())
        _insert(
            con,
            "dim_agents",
            [
                {
                    "agent_id": agent,
                    "agent_name": name,
                    "team_id": AGENT_TEAM.get(agent, "unassigned"),
                    "skills": AGENT_TEAM.get(agent, ""),
                    "capacity": 8,
                    "is_active": True,
                }
                for agent, name in [
                    ("ana", "Ana López"),
                    ("beto", "Roberto Díaz"),
                    ("carla", "Carla Méndez"),
                    ("diego", "Diego Ruiz"),
                    ("unassigned", "Unassigned"),
                ]
            ],
        )
        _insert(
            con,
            "dim_teams",
            [
                {"team_id": "sales", "team_name": "Ventas"},
                {"team_id": "support", "team_name": "Soporte"},
                {"team_id": "unassigned", "team_name": "Unassigned"},
            ],
        )
        _insert(
            con,
            "dim_contacts",
            [
                {
                    "contact_id": r["contact_id"],
                    "inbox_id": r["inbox_id"],
                    "first_seen_at": r["opened_at"],
                    "cycle_count": 1,
                }
                for r in rows
            ],
        )
        _insert(
            con,
            "dim_business_intervals",
            [
                {"local_date": day, "open_at": _local(day, 9, 0), "close_at": _local(day, 18, 0)}
                for offset in range(14)
                if (day := PREV_WEEK_START + dt.timedelta(days=offset)).weekday() < 5
            ],
        )
        _insert(con, "rpt_sla_breaches", _breaches(rows))
        _insert(con, "rpt_hourly_heatmap", _heatmap())
        _insert(con, "rpt_contact_reasons", _reasons())
        _insert(con, "rpt_conversion_cohorts", _cohorts())
        weekly = [
            {"week_start_date": WEEK_START, "iso_week": WEEK, **row} for row in _kpi_rows(rows)
        ]
        _insert(con, "rpt_kpis_weekly", weekly + _prev_week_rows())
        daily = []
        for day in sorted({r["clock_start_date"] for r in rows}):
            day_rows = [r for r in rows if r["clock_start_date"] == day]
            daily += [{"kpi_date": day, **row} for row in _kpi_rows(day_rows)]
        _insert(con, "rpt_kpis_daily", daily)
    finally:
        con.close()
    return path
