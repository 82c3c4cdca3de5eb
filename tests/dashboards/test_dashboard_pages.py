"""One AppTest per page on the fixture snapshot: no exception, key figures equal the fixture's."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dashboard_helpers import APP
from fixture_serving import EXPECTED, build_fixture_serving
from streamlit.testing.v1 import AppTest

from dashboards import i18n

LANG = "es"  # config/bandeja.yaml


def label(key: str, lang: str = LANG) -> str:
    return i18n.t(key, lang)


def app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.proto.delta or None) for m in at.metric}


def frames(at: AppTest) -> list[pd.DataFrame]:
    return [element.value for element in at.dataframe]


def test_overview_cards_match_fixture(dashboard_env: Path) -> None:
    at = app()
    shown = metrics(at)
    assert shown[label("kpi_frt_median")] == ("4m 00s", "-1m 00s")
    assert shown[label("kpi_frt_p90")][0] == "15m 30s"
    assert shown[label("kpi_sla")] == ("80.0%", "+10.0 pts")
    assert shown[label("kpi_art")][0] == "1h 00m"
    assert shown[label("kpi_backlog")] == ("3", "-2")
    assert shown[label("kpi_csat")] == ("80.0%", "+5.0 pts")
    assert shown[label("kpi_nps")] == ("25", "+25")
    assert shown[label("kpi_conversion")][0] == "50.0%"
    captions = " ".join(c.value for c in at.caption)
    assert "n = 10" in captions
    assert label("off_target") in captions and label("on_target") in captions


def test_overview_business_clock_and_english(dashboard_env: Path) -> None:
    at = app()
    at.toggle(key="business_time").set_value(True).run()
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    shown = metrics(at)
    # The fixture's business ART is half the calendar one, so the toggle visibly switches.
    assert shown[label("kpi_art", "en")][0] == "30m 00s"
    assert shown[label("kpi_frt_median", "en")][0] == "4m 00s"


def test_team_filter_narrows_the_cards(dashboard_env: Path) -> None:
    at = app()
    at.selectbox(key="team").select("support").run()
    assert not at.exception
    shown = metrics(at)
    # Support's four cycles: FRT 240, 280, 300 (Carla) and 1200 (Diego); SLA 3 met of 4.
    assert shown[label("kpi_frt_median")][0] == "4m 50s"
    assert shown[label("kpi_sla")][0] == "75.0%"
    assert at.warning, "team cells rest on n < 10 and must be flagged"


def test_live_queue_unreachable_shows_message(dashboard_env: Path) -> None:
    at = app("live_queue")
    warnings = " ".join(w.value for w in at.warning)
    assert os.environ["BANDEJA_API_URL"] in warnings


def test_sla_page(dashboard_env: Path) -> None:
    at = app("sla")
    shown = metrics(at)
    assert shown[label("kpi_sla")][0] == "80.0%"
    assert shown[label("drill_breached")][0] == str(EXPECTED["sla_breached"])
    assert shown[label("escalated_rate")][0] == "20.0%"
    tables = frames(at)
    breaches = next(t for t in tables if "owner_agent_id" in t.columns)
    assert sorted(breaches["cycle_id"]) == EXPECTED["breached_cycles"]
    assert dict(zip(breaches["cycle_id"], breaches["owner_agent_id"], strict=True)) == {
        "c06": "ana",
        "c10": "carla",
    }
    assert set(breaches["overdue"]) == {"10m 00s", "15m 00s"}
    by_agent = next(t for t in tables if "agent_name" in t.columns)
    assert by_agent.set_index("agent_id")["sla_met_count"].to_dict() == {"ana": 5, "carla": 3}
    assert at.get("download_button"), "every table is downloadable"


def test_agents_page_flags_low_confidence(dashboard_env: Path) -> None:
    at = app("agents")
    table = frames(at)[0]
    assert list(table[label("agent")]) == ["Ana López", "Carla Méndez", "Diego Ruiz"]
    frt = dict(zip(table[label("agent")], table[label("col_frt")], strict=True))
    assert frt == {"Ana López": "3m 10s *", "Carla Méndez": "4m 40s *", "Diego Ruiz": "20m 00s *"}
    lost = dict(zip(table[label("agent")], table[label("col_reassign_lost")], strict=True))
    assert lost["Carla Méndez"] == 1


def test_peak_hours_page(dashboard_env: Path) -> None:
    at = app("peak_hours")
    table = frames(at)[0]
    wednesday = table[(table["weekday"] == 3) & (table["hour"] == 10)].iloc[0]
    assert wednesday["avg_cycles_per_week"] == 5.0
    assert wednesday["agents_active_avg"] == 3.0


def test_contact_reasons_page(dashboard_env: Path) -> None:
    at = app("contact_reasons")
    table = frames(at)[0]
    week = table[table["iso_week"] == "2026-W47"]
    assert dict(zip(week["reason"], week["cycles_count"], strict=True)) == {
        "sales_lead": 6,
        "after_sales": 4,
        "vip": 2,
        "wholesale": 1,
        "warranty": 1,
    }


def test_conversion_page_marks_provisional(dashboard_env: Path) -> None:
    at = app()
    at.date_input(key="date_range").set_value((dt.date(2026, 10, 19), dt.date(2026, 11, 22)))
    at.switch_page("views/conversion.py").run()
    assert not at.exception
    shown = metrics(at)
    assert shown[label("funnel_leads")][0] == "12"
    assert shown[label("kpi_conversion")][0] == "50.0%"  # (3 + 1 + 2) / 12
    assert shown[label("revenue").capitalize()][0] == "4,200.00"
    cohorts = frames(at)[0]
    provisional = dict(zip(cohorts["iso_week"], cohorts["is_provisional"], strict=True))
    assert provisional == {"2026-W43": False, "2026-W46": True, "2026-W47": True}


def test_drilldown_filters_and_timeline(dashboard_env: Path) -> None:
    at = app("drilldown")
    assert len(frames(at)[0]) == EXPECTED["cycles"]
    at.radio(key="drill_view").set_value("csat_low").run()
    assert list(frames(at)[0]["cycle_id"]) == EXPECTED["csat_low_cycles"]
    at.radio(key="drill_view").set_value("breached").run()
    assert sorted(frames(at)[0]["cycle_id"]) == EXPECTED["breached_cycles"]
    at.selectbox(key="drill_cycle").select("c10").run()
    assert not at.exception
    timeline = frames(at)[1]
    # 4 milestones, 3 messages, 2 escalations (alert, then reassignment to Diego).
    assert len(timeline) == 9
    assert any("carla → diego" in detail for detail in timeline["detail"])


def test_agent_filter_in_drilldown(dashboard_env: Path) -> None:
    at = app("drilldown")
    at.selectbox(key="agent").select("diego").run()
    assert list(frames(at)[0]["cycle_id"]) == ["c10"]


def test_filter_leaving_nothing_says_so(dashboard_env: Path) -> None:
    at = app()
    at.date_input(key="date_range").set_value((dt.date(2026, 1, 5), dt.date(2026, 1, 31))).run()
    for page in ("overview", "sla", "agents", "contact_reasons", "conversion", "drilldown"):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, page
        assert label("no_data") in [info.value for info in at.info], page


def test_missing_snapshot_is_a_clear_empty_state(
    dashboard_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nothing.duckdb"
    monkeypatch.setenv("BANDEJA_SERVING_DB", str(missing))
    at = app()
    assert str(missing) in at.info[0].value
    at.switch_page("views/sla.py").run()
    assert not at.exception
    assert str(missing) in at.info[0].value


def test_new_snapshot_is_picked_up(
    dashboard_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = build_fixture_serving(tmp_path / "analytics.duckdb")
    monkeypatch.setenv("BANDEJA_SERVING_DB", str(live))
    at = app()
    assert metrics(at)[label("kpi_nps")][0] == "25"
    staged = build_fixture_serving(tmp_path / "staged.duckdb")
    with duckdb.connect(str(staged)) as con:
        con.execute("update rpt_kpis_weekly set nps_score = 60 where iso_week = '2026-W47'")
    os.replace(staged, live)  # what the pipeline's publish step does
    at.run()
    assert metrics(at)[label("kpi_nps")][0] == "60"
