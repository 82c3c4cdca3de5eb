"""fct_backlog_snapshots is incremental by time: after every kind of change, an incremental run
recounts the right snapshots, so the table equals a full refresh over the same events and as_of.

Each step appends events (or moves as_of) on one warehouse built incrementally, then compares its
backlog models with a fresh full build of the same events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dbt_fixture_warehouse import (
    EventLog,
    append_events,
    build_events,
    connect,
    dbt_build,
    local,
    write_fixture_warehouse,
)

SEGMENT_COLUMNS = (
    "cycle_id, conversation_key, segment_start_at, segment_end_at, team_id, agent_id, status, "
    "age_bucket, is_unattended"
)

pytestmark = pytest.mark.slow


def dbt(warehouse: Path, work: Path, *args: str, as_of: str = "") -> None:
    dbt_build(
        warehouse,
        work,
        "--indirect-selection",
        "cautious",
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        json.dumps({"as_of": as_of}),
        *args,
    )


def backlog(warehouse: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = connect(warehouse)
    try:
        return {
            "fct_backlog_snapshots": con.execute(
                "select * from fct_backlog_snapshots order by all"
            ).fetchall(),
            "int_backlog_segments": con.execute(
                f"select {SEGMENT_COLUMNS} from int_backlog_segments "
                "where not is_change_marker order by all"
            ).fetchall(),
        }
    finally:
        con.close()


def test_backlog_incremental_equals_full_refresh(tmp_path: Path) -> None:
    events = build_events()
    log = EventLog(next_seq=max(row["seq"] for row in events) + 1)
    incremental = tmp_path / "incremental.duckdb"
    write_fixture_warehouse(incremental, events)
    select = ("--select", "+fct_backlog_snapshots", "+dim_agents", "+dim_teams")
    dbt(incremental, tmp_path / "i", *select)
    steps = 0

    def step(*phases: tuple[list[dict[str, Any]], tuple[str, ...]], as_of: str = "") -> None:
        """Append each phase's events and build its selection; then build the backlog models
        and compare them with a full build of every event so far."""
        nonlocal steps
        steps += 1
        for rows, args in phases:
            events.extend(rows)
            append_events(incremental, rows)
            if args:
                dbt(incremental, tmp_path / "i", *args, as_of=as_of)
        dbt(incremental, tmp_path / "i", *select, as_of=as_of)
        full = tmp_path / f"full{steps}.duckdb"
        write_fixture_warehouse(full, events)
        dbt(full, tmp_path / "f", *select, "--full-refresh", as_of=as_of)
        got, want = backlog(incremental), backlog(full)
        assert got["int_backlog_segments"] == want["int_backlog_segments"], steps
        assert got["fct_backlog_snapshots"] == want["fct_backlog_snapshots"], steps
        full.unlink()

    # A Monday: c30 and c31 wait from the morning, c32 moves as_of to 17:30 (snapshots seen up to
    # 17:00). c31's age buckets: 20-60m from 09:30, 1-4h from 10:10, >4h from 13:10.
    step(
        (
            [
                log.customer("c30", local("2026-12-28 09:00:30")),
                log.customer("c31", local("2026-12-28 09:10")),
                log.customer("c32", local("2026-12-28 17:30")),
            ],
            (),
        )
    )
    # A late resolve of c31 exactly at 13:10, a cut point: its >4h segment disappears and no
    # segment replaces it; only the change marker makes the 14:00-17:00 snapshots recount.
    step(([log.resolve("c31", local("2026-12-28 13:10"), "agent", "ana")], ()))
    # A build that skips fct_backlog_snapshots (c30 assigned to beto at 09:30), then c30
    # reassigned at 11:30: the rewrite keeps the unconsumed earlier change (10:00, 11:00).
    step(
        (
            [log.assign("c30", local("2026-12-28 09:30"), "beto")],
            ("--select", "+int_backlog_segments"),
        ),
        ([log.assign("c30", local("2026-12-28 11:30"), "carla")], ()),
    )
    # A late reply from November: the recount goes back to it.
    step(([log.reply("c01", local("2026-11-23 10:30"), "diego")], ()))
    # as_of earlier than the previous one (11:00), then Tuesday noon with no new events: Tuesday's
    # snapshots count the untouched open cycles (c30, c32); then a run with nothing new.
    step(as_of="2026-12-28T17:00:00+00:00")
    step(as_of="2026-12-29T18:00:00+00:00")
    step(as_of="2026-12-29T18:00:00+00:00")
    # A full refresh of the segments alone, with a new conversation: the next run recounts all.
    step(
        (
            [log.customer("c33", local("2026-12-29 10:00"))],
            ("--select", "+int_backlog_segments", "--full-refresh"),
        ),
        as_of="2026-12-29T18:00:00+00:00",
    )
