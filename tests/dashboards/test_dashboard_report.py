"""The weekly report on the fixture week: CSV rows, PDF text, PNG rendering, CLI and errors."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
from dashboard_helpers import ARTIFACTS, REPO
from fixture_serving import EXPECTED, WEEK
from pypdf import PdfReader

from dashboards.commands import dashboard_command
from dashboards.kpis import last_complete_week, parse_iso_week
from dashboards.queries import SnapshotError
from dashboards.report import build_weekly_report
from inbox_api.cli import main as bandeja
from ingest.config import load_config

CONFIG = load_config(REPO / "config" / "bandeja.yaml")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def report(serving_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_weekly_report(serving_db, WEEK, tmp_path_factory.mktemp("reports"), CONFIG)


def test_csvs_hold_the_week(report: Path) -> None:
    assert report.name == WEEK
    cycles = rows(report / "cycles.csv")
    assert len(cycles) == EXPECTED["cycles"]
    assert sum(row["sla_status"] == "met" for row in cycles) == EXPECTED["sla_met"]
    breaches = rows(report / "sla_breaches.csv")
    assert sorted(row["cycle_id"] for row in breaches) == EXPECTED["breached_cycles"]
    by_team = rows(report / "kpis_by_team.csv")
    assert [(row["grain"], row["team_id"]) for row in by_team] == [
        ("all", "all"),
        ("team", "sales"),
        ("team", "support"),
    ]
    assert float(by_team[0]["frt_median_seconds"]) == EXPECTED["frt_median_seconds"]
    assert float(by_team[0]["sla_compliance_rate"]) == EXPECTED["sla_rate"]
    assert [row["agent_id"] for row in rows(report / "kpis_by_agent.csv")] == [
        "ana",
        "carla",
        "diego",
    ]
    reasons = {
        row["reason"]: int(row["cycles_count"]) for row in rows(report / "contact_reasons.csv")
    }
    assert reasons["sales_lead"] == 6 and reasons["after_sales"] == 4
    cohorts = rows(report / "conversion_cohorts.csv")
    assert [row["iso_week"] for row in cohorts] == ["2026-W43", "2026-W46", "2026-W47"]


def test_pdf_headline_numbers_match_the_snapshot(report: Path) -> None:
    reader = PdfReader(report / "report.pdf")
    assert 2 <= len(reader.pages) <= 4
    first_page = reader.pages[0].extract_text()
    cells = [line.strip() for line in first_page.splitlines()]

    def row(kpi_label: str) -> list[str]:
        """This week, last week and change: the three cells after the KPI's name."""
        start = cells.index(kpi_label) + 1
        return cells[start : start + 3]

    assert WEEK in first_page
    assert row("Primera respuesta, mediana") == ["4m 00s", "5m 00s", "-1m 00s"]
    assert row("Primera respuesta, p90") == ["15m 30s", "16m 40s", "-1m 10s"]
    assert row("Cumplimiento de SLA") == ["80.0%", "70.0%", "+10.0 pts"]
    assert row("Tiempo de resolución, mediana")[0] == "1h 00m"
    assert row("Pendientes al cierre") == ["3", "5", "-2"]
    assert row("CSAT") == ["80.0%", "75.0%", "+5.0 pts"]
    assert row("NPS") == ["25", "0", "+25"]
    assert row("Tasa de conversión")[0] == "50.0%"
    assert "SLA: 8 cumplidos / 2 incumplidos" in cells
    everything = "\n".join(page.extract_text() for page in reader.pages)
    assert "Carla Méndez" in everything and "15m 00s" in everything  # top breach, overdue
    assert "provisional" in everything


def test_pdf_renders_to_png(report: Path) -> None:
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "poppler-utils is needed (make browser installs it)"
    out = ARTIFACTS / "report"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("page-*.png"):
        old.unlink()
    subprocess.run(
        [pdftoppm, "-r", "90", "-png", str(report / "report.pdf"), str(out / "page")], check=True
    )
    pages = sorted(out.glob("page-*.png"))
    assert 2 <= len(pages) <= 4
    assert all(page.stat().st_size > 10_000 for page in pages)


def test_bad_week_names_the_format(serving_db: Path, tmp_path: Path) -> None:
    for bad in ("2026-47", "W47", "2026-W5", "", "2026-W54"):
        with pytest.raises(ValueError, match=r"YYYY-Www|does not exist"):
            build_weekly_report(serving_db, bad, tmp_path, CONFIG)
    assert parse_iso_week("2026-W47").isoformat() == "2026-11-16"


def test_missing_snapshot_and_empty_week(serving_db: Path, tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no serving snapshot"):
        build_weekly_report(tmp_path / "missing.duckdb", WEEK, tmp_path, CONFIG)
    with pytest.raises(ValueError, match="no KPI rows for week 2026-W01"):
        build_weekly_report(serving_db, "2026-W01", tmp_path, CONFIG)


def test_cli_report(
    dashboard_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bandeja(["report", "--week", WEEK, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    assert str(tmp_path / WEEK / "report.pdf") in printed
    assert len(printed) == 7
    assert bandeja(["report", "--week", "2026-47"]) == 1
    assert "YYYY-Www" in capsys.readouterr().err


def test_default_week_is_the_last_complete_one() -> None:
    import datetime as dt

    assert last_complete_week(dt.date(2026, 11, 25)) == "2026-W47"
    assert last_complete_week(dt.date(2026, 11, 23)) == "2026-W47"  # Monday
    assert last_complete_week(dt.date(2026, 11, 22)) == "2026-W46"  # Sunday
    assert last_complete_week(dt.date(2027, 1, 4)) == "2026-W53"


def test_dashboard_command_is_headless_without_telemetry() -> None:
    command = dashboard_command(8599, "127.0.0.1")
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[4].endswith("dashboards/app.py")
    joined = " ".join(command)
    assert "--server.headless true" in joined
    assert "--browser.gatherUsageStats false" in joined
    assert "--server.port 8599" in joined
