"""The real `dbt build` over the fixture warehouse: headline figures, idempotence, incremental."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_fixture_warehouse import (
    EventLog,
    append_events,
    build_events,
    connect,
    dbt_build,
    local,
    serving_path,
    write_fixture_warehouse,
)

from pipelines.serving import BOOKKEEPING_COLUMNS, SERVING_TABLES

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def served_columns(con: duckdb.DuckDBPyConnection, model: str) -> str:
    """The model's columns but the bookkeeping ones (the report period hashes), which differ
    between an incremental and a full build and are never published."""
    rows = con.execute(
        "select column_name from duckdb_columns() where schema_name = 'main' and table_name = ? "
        "and database_name = (select database_name from duckdb_tables() "
        "where schema_name = 'main' and table_name = ? order by database_name = 'serving' desc "
        "limit 1) order by column_index",
        [model, model],
    ).fetchall()
    return ", ".join(f'"{name}"' for (name,) in rows if name not in BOOKKEEPING_COLUMNS)


def snapshot(warehouse: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = connect(warehouse)
    try:
        return {
            model: con.execute(
                f"select {served_columns(con, model)} from main.{model} order by all"
            ).fetchall()
            for model in SERVING_TABLES
        }
    finally:
        con.close()


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    con = connect(warehouse)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def late_events(start_seq: int) -> list[dict[str, Any]]:
    """One more day of traffic, a late out-of-order reply and a redelivered old event."""
    log = EventLog(next_seq=start_seq)
    log.customer("c20", local("2026-12-28 10:00"))
    log.assign("c20", local("2026-12-28 10:00:02"), "carla")
    log.reply("c20", local("2026-12-28 10:03"), "carla")
    log.resolve("c20", local("2026-12-28 10:20"), "agent", "carla")
    # A survey sent and answered in this batch, and a second (ignored) answer to an old survey:
    # int_surveys_answered rewrites only the surveys with new events.
    log.add(
        "survey_sent",
        local("2026-12-28 10:21"),
        {"survey_id": "s-c20", "kind": "csat", "message_id": "out:s-c20"},
        conversation="c20",
        actor_kind="automation",
    )
    log.add(
        "survey_answer",
        local("2026-12-28 10:25"),
        {"survey_id": "s-c20", "kind": "csat", "score": 4},
        conversation="c20",
        actor_kind="customer",
    )
    log.add(
        "survey_answer",
        local("2026-12-28 10:26"),
        {"survey_id": "s-c06", "kind": "csat", "score": 1},
        conversation="c06",
        actor_kind="customer",
    )
    # c01 was never answered: a reply from November arrives only now.
    log.reply("c01", local("2026-11-23 10:30"), "diego")
    # A CRM conversion for c13's contact, within its lead's window, with no conversation: only
    # the contact links it to c13's cycle.
    log.add(
        "conversion",
        local("2026-12-01 12:00"),
        {"conversion_id": "conv-c13-early", "kind": "sale", "amount": 300.0, "source": "crm"},
        actor_kind="import",
    )["contact_id"] = "52155c13"
    # c05's contact writes again from another thread (c21) and a lead lands there, before the
    # December conversion: the conversion now credits this later lead, not c05's.
    for row in (
        log.customer("c21", local("2026-12-20 10:00")),
        log.reply("c21", local("2026-12-20 10:02"), "ana"),
        log.add(
            "lead",
            local("2026-12-20 10:03"),
            {"lead_id": "lead-c21", "source": "agent"},
            conversation="c21",
            actor_kind="agent",
            actor_id="ana",
        ),
    ):
        row["contact_id"] = "52155c05"
    # An agent and a team with no agent or team event yet: dim_agents and dim_teams add their ids
    # from the new rows alone (no agent event in this batch, so no rebuild).
    log.customer("c23", local("2026-12-28 11:00"))
    log.assign("c23", local("2026-12-28 11:00:05"), "zoe", team="vip")
    log.reply("c23", local("2026-12-28 11:04"), "zoe")
    return log.rows


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("dbt_build")
    warehouse = work / "warehouse.duckdb"
    write_fixture_warehouse(warehouse)
    dbt_build(warehouse, work)
    return warehouse


def cycle(warehouse: Path, cycle_id: str, columns: str) -> tuple[Any, ...]:
    rows = query(
        warehouse,
        f"select {columns} from fct_cycles where cycle_id = ?".replace("?", f"'{cycle_id}'"),
    )
    assert len(rows) == 1, cycle_id
    return rows[0]


def test_edge_cases_per_cycle(built: Path) -> None:
    # reply exactly at the deadline: met, 300 s
    assert cycle(built, "c05:1", "sla_status, frt_seconds") == ("met", 300.0)
    # reassignment mid-wait: breach charged to the owner at the deadline
    assert cycle(built, "c10:1", "sla_status, sla_owner_agent_id, first_responder_agent_id") == (
        "breached",
        "beto",
        "beto",
    )
    # agent replied before being assigned: credit to the writer, owner = assignee at deadline
    assert cycle(built, "c09:1", "first_responder_agent_id, sla_owner_agent_id") == (
        "diego",
        "carla",
    )
    # automated off-hours reply first, answered next morning
    assert cycle(built, "c12:1", "frt_seconds, frt_business_seconds, sla_target_seconds") == (
        47_100.0,
        300.0,
        1_800.0,
    )
    # bot then handoff: clock starts at the handoff
    assert cycle(built, "c07:1", "frt_seconds, had_bot") == (180.0, True)
    # bot-only resolution and auto-resolve for inactivity stay out of ART
    assert cycle(built, "c08:1", "sla_status, is_in_art") == ("excluded", False)
    assert cycle(built, "c14:1", "is_in_art, resolution_kind") == (False, "auto_inactivity")
    # internal note first does not stop the clock
    assert cycle(built, "c11:1", "frt_seconds, sla_status") == (420.0, "breached")
    # holiday and 18:00:00 are off-hours starts
    assert cycle(built, "c03:1", "is_business_start, sla_status") == (False, "breached")
    assert cycle(built, "c04:1", "is_business_start, sla_status") == (False, "met")
    # reopen and "thanks" after resolution open new cycles
    assert cycle(built, "c06:1", "is_reopened, csat_score") == (True, 5)
    assert cycle(built, "c15:2", "is_answered, sla_status") == (False, "breached")
    # no reply ever: breached and escalated; latest cycle: pending
    assert cycle(built, "c01:1", "sla_status, was_escalated, was_reassigned") == (
        "breached",
        True,
        True,
    )
    assert cycle(built, "c19:1", "sla_status") == ("pending",)


def test_duplicates_and_out_of_order(built: Path) -> None:
    assert query(built, "select count(*) from fct_messages where conversation_id = 'c16'") == [(2,)]
    assert cycle(built, "c17:1", "frt_seconds") == (120.0,)
    assert query(built, "select count(*) from fct_cycles") == [(21,)]


def test_headline_week(built: Path) -> None:
    row = query(
        built,
        """
        select cycles_opened_count, frt_n, sla_met_count, sla_breached_count,
            sla_excluded_count, sla_compliance_rate, csat_rate, nps_score, leads_count,
            converted_count, revenue_amount, is_low_confidence
        from rpt_kpis_weekly where grain = 'all' and iso_week = '2026-W48'
        """,
    )
    assert row == [(17, 14, 11, 5, 1, 11 / 16, 0.5, 0, 2, 1, 1500.0, False)]
    leads = query(built, "select lead_id, is_converted, is_provisional from fct_leads order by 1")
    assert leads == [
        ("lead-c05", True, False),
        ("lead-c13", False, False),
        ("lead-c18", False, True),
    ]


def test_rerun_is_identical(built: Path, tmp_path: Path) -> None:
    before = snapshot(built)
    dbt_build(built, tmp_path)
    assert snapshot(built) == before


def documented_comments(manifest: Path) -> dict[tuple[str, str, str | None], str]:
    """(database, relation, column or None) -> description, for every built model and its
    documented columns."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    expected = {}
    for node in nodes:
        if node["resource_type"] != "model" or node["config"]["materialized"] == "ephemeral":
            continue
        where = (node["database"], node["alias"])
        expected[(*where, None)] = node["description"]
        for name, column in node["columns"].items():
            expected[(*where, name)] = column["description"]
    return {key: description for key, description in expected.items() if description}


def stored_comments(warehouse: Path) -> dict[tuple[str, str, str | None], str | None]:
    return {
        (database, relation, column): comment
        for database, relation, column, comment in query(
            warehouse,
            "select database_name, table_name, null, comment from duckdb_tables() "
            "union all select database_name, view_name, null, comment from duckdb_views() "
            "where not internal "
            "union all select database_name, table_name, column_name, comment "
            "from duckdb_columns()",
        )
    }


def test_comments_follow_the_docs_and_are_mended(built: Path, tmp_path: Path) -> None:
    """Every model and documented column carries its description as a DuckDB comment, and a
    build rewrites one that is missing or stale (it writes only those, macros/persist_docs.sql)."""
    expected = documented_comments(built.parent / "target" / "manifest.json")
    assert len(expected) > 300
    assert {key: stored_comments(built).get(key) for key in expected} == expected

    with duckdb.connect(str(serving_path(built))) as con:
        con.execute("comment on column fct_cycles.frt_seconds is 'stale'")
        con.execute("comment on table fct_escalations is null")
    with duckdb.connect(str(built)) as con:
        con.execute("comment on column int_cycles_opened.cycle_id is null")
    assert stored_comments(built)[("serving", "fct_cycles", "frt_seconds")] == "stale"
    dbt_build(built, tmp_path)

    assert {key: stored_comments(built).get(key) for key in expected} == expected
    # what the rebuild wrote: the stale comments, not those of an untouched incremental model
    log = (tmp_path / "logs" / "dbt.log").read_text()
    assert 'comment on column "serving"."main"."fct_cycles".frt_seconds' in log
    assert 'comment on column "serving"."main"."fct_messages"' not in log


def test_incremental_equals_full_refresh(tmp_path: Path) -> None:
    # The last event of the first build: a cycle opened on Sunday night, after every backlog
    # snapshot up to that as_of; only Monday's snapshots (next build) see it waiting.
    events = build_events()
    sunday = EventLog(next_seq=max(row["seq"] for row in events) + 1)
    sunday.customer("c22", local("2026-12-27 20:00"))
    events += sunday.rows
    incremental = tmp_path / "incremental.duckdb"
    write_fixture_warehouse(incremental, events)
    dbt_build(incremental, tmp_path / "a")
    more = late_events(sunday.next_seq)
    redelivered = {**events[-1], "seq": more[-1]["seq"] + 1}
    append_events(incremental, [*more, redelivered])
    dbt_build(incremental, tmp_path / "a")
    assert query(
        incremental,
        "select agent_name, team_id, is_active from dim_agents where agent_id = 'zoe' "
        "union all select team_name, null, null from dim_teams where team_id = 'vip'",
    ) == [("zoe", "unassigned", False), ("vip", None, None)]
    # Then zoe's and vip's own events: the lookup dims rebuild from every event.
    named = EventLog(next_seq=redelivered["seq"] + 1)
    named.add("team", local("2026-12-28 12:00"), {"team_id": "vip", "name": "VIP"})
    named.add(
        "agent",
        local("2026-12-28 12:00"),
        {"agent_id": "zoe", "name": "Zoe", "role": "agent", "team_ids": ["vip"], "capacity": 4},
    )
    append_events(incremental, named.rows)
    dbt_build(incremental, tmp_path / "a")

    full = tmp_path / "full.duckdb"
    write_fixture_warehouse(full, [*events, *more, redelivered, *named.rows])
    dbt_build(full, tmp_path / "b", "--full-refresh")

    assert snapshot(incremental) == snapshot(full)
    # as_of, feed seq and latest instant, though the incremental builds read only newer events
    run_as_of = "select * from stg_inbox__run_as_of"
    assert query(incremental, run_as_of) == query(full, run_as_of)
    assert query(
        incremental, "select agent_name, team_id from dim_agents where agent_id = 'zoe'"
    ) == [("Zoe", "vip")]
    assert cycle(incremental, "c01:1", "sla_status, first_responder_agent_id") == (
        "breached",
        "diego",
    )
    # contact-linked changes reached conversations that had no new event of their own
    assert cycle(incremental, "c13:1", "is_lead, converted_at is not null") == (True, True)
    assert cycle(incremental, "c05:1", "is_lead, converted_at") == (True, None)
    assert cycle(incremental, "c21:1", "converted_at is not null") == (True,)
    assert cycle(incremental, "c20:1", "csat_score") == (4,)
    assert cycle(incremental, "c06:1", "csat_score") == (5,)
    # as_of moved past Monday's opening: new snapshots count c22's untouched open cycle
    assert (
        query(
            incremental,
            "select sum(conversation_count) from fct_backlog_snapshots "
            "where snapshot_at = timestamptz '2026-12-28 15:00:00+00'",
        )[0][0]
        >= 1
    )
    shutil.rmtree(tmp_path / "a", ignore_errors=True)


def test_a_new_as_of_alone_moves_cycles_between_pending_and_breached(tmp_path: Path) -> None:
    """No new events, only a later as_of: the incremental marts and reports follow the cycles
    whose deadline passed, as a full refresh would; then an earlier one turns them back."""
    events = build_events()
    sunday = EventLog(next_seq=max(row["seq"] for row in events) + 1)
    sunday.customer("c22", local("2026-12-27 20:00"))
    events += sunday.rows
    early = json.dumps({"as_of": local("2026-12-27 20:01").isoformat()})
    late = json.dumps({"as_of": local("2026-12-29 12:00").isoformat()})
    incremental = tmp_path / "incremental.duckdb"
    write_fixture_warehouse(incremental, events)
    dbt_build(incremental, tmp_path / "a", "--vars", early)
    assert cycle(incremental, "c22:1", "sla_status") == ("pending",)
    dbt_build(incremental, tmp_path / "a", "--vars", late)
    assert cycle(incremental, "c22:1", "sla_status") == ("breached",)
    breach = "select count(*) from rpt_sla_breaches where cycle_id = 'c22:1'"
    assert query(incremental, breach)[0][0] == 1

    full = tmp_path / "full.duckdb"
    write_fixture_warehouse(full, events)
    dbt_build(full, tmp_path / "b", "--vars", late)
    assert snapshot(incremental) == snapshot(full)

    # and back: an earlier as_of makes the breach pending again, and its breach row goes
    dbt_build(incremental, tmp_path / "a", "--vars", early)
    assert cycle(incremental, "c22:1", "sla_status") == ("pending",)
    assert query(incremental, breach)[0][0] == 0
    early_full = tmp_path / "early_full.duckdb"
    write_fixture_warehouse(early_full, events)
    dbt_build(early_full, tmp_path / "c", "--vars", early)
    assert snapshot(incremental) == snapshot(early_full)


def test_a_late_event_that_empties_a_day_removes_it_from_the_reports(tmp_path: Path) -> None:
    """A late, earlier customer message moves a cycle's opening to the day before; the day it
    left has no other activity, so the incremental daily report drops it, as a full refresh."""
    events = build_events()
    lonely = EventLog(next_seq=max(row["seq"] for row in events) + 1)
    lonely.customer("c30", local("2027-01-10 01:00"))
    events += lonely.rows
    incremental = tmp_path / "incremental.duckdb"
    write_fixture_warehouse(incremental, events)
    dbt_build(incremental, tmp_path / "a")
    days = "select count(*) from rpt_kpis_daily where kpi_date = date '2027-01-10'"
    assert query(incremental, days)[0][0] > 0
    late = EventLog(next_seq=lonely.next_seq)
    late.customer("c30", local("2027-01-09 23:00"))
    append_events(incremental, late.rows)
    dbt_build(incremental, tmp_path / "a")
    assert query(incremental, days)[0][0] == 0

    full = tmp_path / "full.duckdb"
    write_fixture_warehouse(full, [*events, *late.rows])
    dbt_build(full, tmp_path / "b")
    assert snapshot(incremental) == snapshot(full)


def test_benchmark_floor_query_agrees_with_fct_cycles(built: Path) -> None:
    """`bench/floor.sql`, the benchmark's hand-written floor, computes the same FRT and SLA status
    per cycle as the pipeline on every edge case of the fixture."""
    floor_sql = (REPO / "bench" / "floor.sql").read_text()
    columns = "conversation_id, opened_at, frt_seconds, frt_business_seconds, sla_status"
    con = connect(built)
    try:
        as_of = con.execute("select max(occurred_at) from raw.inbox_events").fetchall()[0][0]
        floor = con.execute(
            f"select {columns} from ({floor_sql}) order by all", {"as_of": as_of}
        ).fetchall()
        pipeline = con.execute(f"select {columns} from fct_cycles order by all").fetchall()
    finally:
        con.close()
    assert floor == pipeline
