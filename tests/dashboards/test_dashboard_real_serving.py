"""Pages and report on a serving snapshot the real pipeline produced (dbt build + publish).

The dbt tests' fixture warehouse goes through `dbt build` and the publish step; the dashboards
must then show exactly what the reporting tables hold, and the hand-made fixture must not use a
column the real snapshot lacks.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dashboard_helpers import APP, REPO
from fixture_serving import TABLES
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from dashboards import i18n, kpis
from dashboards.report import build_weekly_report
from ingest.config import load_config
from pipelines.serving import build_path, prepare_serving_build, publish_serving_build

pytestmark = pytest.mark.slow
PAGES = ("live_queue", "sla", "agents", "peak_hours", "contact_reasons", "conversion", "drilldown")


def _fixture_warehouse_module():
    path = REPO / "tests" / "dbt" / "dbt_fixture_warehouse.py"
    spec = importlib.util.spec_from_file_location("dbt_fixture_warehouse_for_dashboards", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def real_serving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("real_serving")
    warehouse = work / "warehouse.duckdb"
    serving = work / "serving" / "analytics.duckdb"
    _fixture_warehouse_module().write_fixture_warehouse(warehouse)
    build = prepare_serving_build(serving)
    project = REPO / "dbt_project"
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        env={
            **os.environ,
            "BANDEJA_WAREHOUSE_DB": str(warehouse),
            "BANDEJA_SERVING_BUILD_DB": str(build),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert build == build_path(serving)
    return publish_serving_build(warehouse, serving).path


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_fixture_columns_exist_in_the_real_snapshot(real_serving: Path) -> None:
    real = set(
        _rows(real_serving, "select table_name, column_name from information_schema.columns")
    )
    for table, columns in TABLES.items():
        for column in columns.replace("\n", " ").split(","):
            name = column.split()[0]
            assert (table, name) in real, f"{table}.{name} is not in the real serving snapshot"


def test_pages_show_the_reporting_tables(
    dashboard_env: Path, real_serving: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANDEJA_SERVING_DB", str(real_serving))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # The Overview shows the last week of the default range (which ends on the last KPI day).
    week, frt, sla = _rows(
        real_serving,
        "select iso_week, frt_median_seconds, sla_compliance_rate "
        "from rpt_kpis_weekly where grain = 'all' "
        "and week_start_date <= (select max(kpi_date) from rpt_kpis_daily) "
        "order by week_start_date desc limit 1",
    )[0]
    shown = {metric.label: metric.value for metric in at.metric}
    assert shown[i18n.t("kpi_frt_median", "es")] == kpis.format_duration(frt)
    assert shown[i18n.t("kpi_sla", "es")] == kpis.format_value("rate", sla)
    assert week in " ".join(header.value for header in at.subheader)
    for page in PAGES:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])


def test_report_matches_the_reporting_tables(real_serving: Path, tmp_path: Path) -> None:
    config = load_config(REPO / "config" / "bandeja.yaml")
    week_start = dt.date(2026, 11, 23)
    iso_week = kpis.iso_week_of(week_start)
    folder = build_weekly_report(real_serving, iso_week, tmp_path, config)
    frt, p90, sla = _rows(
        real_serving,
        "select frt_median_seconds, frt_p90_seconds, sla_compliance_rate from rpt_kpis_weekly "
        f"where grain = 'all' and iso_week = '{iso_week}'",
    )[0]
    cells = [
        line.strip()
        for line in PdfReader(folder / "report.pdf").pages[0].extract_text().splitlines()
    ]

    def this_week(kpi_label: str) -> str:
        return cells[cells.index(kpi_label) + 1]

    assert this_week("Primera respuesta, mediana") == kpis.format_duration(frt)
    assert this_week("Primera respuesta, p90") == kpis.format_duration(p90)
    assert this_week("Cumplimiento de SLA") == kpis.format_value("rate", sla)
    cycles = _rows(
        real_serving,
        "select count(*) from fct_cycles where clock_start_date between "
        f"'{week_start}' and '{week_start + dt.timedelta(days=6)}'",
    )[0][0]
    lines = (folder / "cycles.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) - 1 == cycles > 0
