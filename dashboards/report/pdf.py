"""The weekly PDF: two to four pages a manager reads in the weekly meeting (reportlab only)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from dashboards import i18n, kpis
from ingest.config import BusinessConfig

if TYPE_CHECKING:
    from dashboards.report.build import WeekData

GOOD = colors.HexColor("#1b7f3b")
BAD = colors.HexColor("#b3261e")
BAR = colors.HexColor("#3b6ea8")
MUTED = colors.HexColor("#9e9e9e")
HEADER = colors.HexColor("#e8eef6")
WIDTH = A4[0] - 3 * cm
TOP_BREACHES = 10


def _plain(text: str) -> str:
    # The standard PDF fonts have no "≤"/"≥"; keep the report free of embedded fonts.
    return text.replace("≤", "<=").replace("≥", ">=")


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(_plain(text)), style)


def _table(
    rows: list[list[object]], widths: list[float] | None = None, text_columns: int = 1
) -> Table:
    """A zebra table; the first `text_columns` columns align left, the figures right."""
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f6f6")]),
                ("ALIGN", (text_columns, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _headline(week: WeekData, config: BusinessConfig, lang: str) -> Table:
    header = ["kpi", "this_week", "last_week", "change", "target", "status", "n"]
    rows: list[list[object]] = [[i18n.t(key, lang) for key in header]]
    statuses: list[bool | None] = []
    for kpi in kpis.headline_kpis(config):
        value = kpis.value_of(kpi, week.current, False)
        before = kpis.value_of(kpi, week.previous, False)
        met = kpis.meets_target(kpi, value)
        statuses.append(met)
        rows.append(
            [
                i18n.t(kpi.key, lang),
                kpis.format_value(kpi.kind, value),
                kpis.format_value(kpi.kind, before),
                kpis.format_delta(kpi.kind, value, before) or kpis.MISSING,
                _plain(kpis.format_target(kpi)),
                kpis.MISSING if met is None else i18n.t("on_target" if met else "off_target", lang),
                kpis.n_of(kpi, week.current) if kpi.n_columns else "",
            ]
        )
    table = _table(rows, [5 * cm, 2.1 * cm, 2.6 * cm, 2.1 * cm, 2 * cm, 2.2 * cm, 1 * cm])
    for index, met in enumerate(statuses, start=1):
        if met is not None:
            table.setStyle(
                TableStyle([("TEXTCOLOR", (5, index), (5, index), GOOD if met else BAD)])
            )
    return table


def _bar_chart(
    title: str,
    names: list[str],
    values: list[float],
    target: float | None,
    target_label: str,
    value_max: float | None = None,
) -> Drawing:
    drawing = Drawing(WIDTH, 200)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 30, WIDTH - 60, 140
    chart.data = [[value or 0 for value in values]] if values else [[0]]
    chart.categoryAxis.categoryNames = names or ["–"]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    top = value_max or max([*(v or 0 for v in values), target or 0, 1]) * 1.2
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, top
    chart.bars[0].fillColor = BAR
    chart.barLabelFormat = "%.1f"
    chart.barLabels.fontSize = 7
    chart.barLabels.nudge = 6
    drawing.add(chart)
    drawing.add(String(0, 185, title, fontName="Helvetica-Bold", fontSize=10))
    if target is not None:
        y = chart.y + target / top * chart.height
        drawing.add(
            Line(chart.x, y, chart.x + chart.width, y, strokeColor=BAD, strokeDashArray=[4, 3])
        )
        drawing.add(
            String(
                chart.x + chart.width - 2,
                y + 3,
                target_label,
                fontSize=7,
                fillColor=BAD,
                textAnchor="end",
            )
        )
    return drawing


def _reasons_chart(week: WeekData, lang: str) -> Drawing:
    topics = week.reasons.filter(week.reasons["reason_kind"] == "topic")
    totals: dict[str, int] = {}
    for reason, count in topics.select("reason", "cycles_count").iter_rows():
        totals[reason] = totals.get(reason, 0) + count
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:8]
    drawing = Drawing(WIDTH, 40 + 18 * max(len(ordered), 1))
    chart = HorizontalBarChart()
    chart.x, chart.y = 110, 10
    chart.width, chart.height = WIDTH - 140, 18 * max(len(ordered), 1)
    chart.data = [[count for _, count in reversed(ordered)] or [0]]
    chart.categoryAxis.categoryNames = [name for name, _ in reversed(ordered)] or ["–"]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = BAR
    drawing.add(chart)
    drawing.add(
        String(
            0,
            chart.height + 22,
            i18n.t("reasons_topics", lang),
            fontName="Helvetica-Bold",
            fontSize=10,
        )
    )
    return drawing


def _charts(week: WeekData, config: BusinessConfig, lang: str) -> list[Drawing]:
    target_minutes = config.sla.business_target_seconds / 60
    target_label = f"{i18n.t('target', lang)} {target_minutes:g} min"
    daily = week.daily
    frt = _bar_chart(
        i18n.t("report_daily_frt", lang),
        [f"{i18n.weekday_names(lang)[day.weekday()]} {day.day}" for day in daily["kpi_date"]],
        [(value or 0) / 60 for value in daily["frt_median_seconds"]],
        target_minutes,
        target_label,
    )
    teams = week.kpis_by_team.filter(week.kpis_by_team["grain"] == "team")
    sla = _bar_chart(
        i18n.t("report_team_sla", lang),
        teams["team_name"].to_list(),
        [100 * (value or 0) for value in teams["sla_compliance_rate"]],
        100 * config.targets.sla_compliance_rate,
        f"{i18n.t('target', lang)} {config.targets.sla_compliance_rate:.0%}",
        value_max=110,
    )
    return [frt, sla, _reasons_chart(week, lang)]


def _breaches(week: WeekData, config: BusinessConfig, lang: str) -> object:
    if week.breaches.is_empty():
        return Paragraph(i18n.t("report_no_breaches", lang))
    timezone = ZoneInfo(config.calendar.timezone)
    header = ["col_cycle", "col_team", "col_owner", "col_topic", "col_started", "col_overdue"]
    rows: list[list[object]] = [[i18n.t(key, lang) for key in header]]
    for row in week.breaches.head(TOP_BREACHES).iter_rows(named=True):
        started = row["clock_start_at"].astimezone(timezone)
        rows.append(
            [
                row["cycle_id"],
                row["team_name"],
                row["owner_agent_name"],
                row["topic"] or "",
                f"{i18n.weekday_names(lang)[started.weekday()]} {started:%d %H:%M}",
                kpis.format_duration(row["overdue_seconds"]),
            ]
        )
    return _table(rows, text_columns=5)


def _agents(week: WeekData, config: BusinessConfig, lang: str) -> Table:
    low_n = config.low_confidence_n

    def flag(text: str, n: int | None) -> str:
        return f"{text} *" if text != kpis.MISSING and (n or 0) < low_n else text

    header = [
        "agent",
        "col_volume",
        "col_frt",
        "col_art",
        "col_sla",
        "col_csat",
        "col_conversions",
        "col_reassign_lost",
    ]
    rows: list[list[object]] = [[i18n.t(key, lang) for key in header]]
    for row in week.agents.iter_rows(named=True):
        sla_n = (row["sla_met_count"] or 0) + (row["sla_breached_count"] or 0)
        rows.append(
            [
                row["agent_name"],
                row["cycles_opened_count"],
                flag(kpis.format_duration(row["frt_median_seconds"]), row["frt_n"]),
                flag(kpis.format_duration(row["art_median_seconds"]), row["art_n"]),
                flag(kpis.format_value("rate", row["sla_compliance_rate"]), sla_n),
                flag(kpis.format_value("rate", row["csat_rate"]), row["csat_responses_count"]),
                row["converted_count"],
                row["reassignments_lost_count"],
            ]
        )
    return _table(rows)


def _notes(week: WeekData, config: BusinessConfig, lang: str) -> list[str]:
    notes = [i18n.t("low_confidence_note", lang, n=config.low_confidence_n)]
    low = week.kpis_by_team.filter(week.kpis_by_team["is_low_confidence"])
    for row in low.iter_rows(named=True):
        name = "all" if row["grain"] == "all" else row["team_name"]
        notes.append(f"{name}: {i18n.t('low_confidence', lang, n=config.low_confidence_n)}")
    met, breached = week.current.get("sla_met_count"), week.current.get("sla_breached_count")
    notes.append(f"SLA: {i18n.t('met_breached', lang, met=met, breached=breached)}")
    provisional = week.cohorts.filter(week.cohorts["is_provisional"])
    if not provisional.is_empty():
        weeks = ", ".join(sorted(set(provisional["iso_week"].to_list())))
        notes.append(
            f"{i18n.t('provisional_note', lang, days=config.conversion_window_days)} ({weeks})"
        )
    return notes


def _cohorts(week: WeekData, lang: str) -> Table:
    rows: list[list[object]] = [
        [
            i18n.t("week", lang),
            i18n.t("col_team", lang),
            i18n.t("funnel_leads", lang),
            i18n.t("funnel_converted", lang),
            i18n.t("kpi_conversion", lang),
            i18n.t("revenue", lang).capitalize(),
            "",
        ]
    ]
    for row in week.cohorts.iter_rows(named=True):
        rows.append(
            [
                row["iso_week"],
                row["team_id"],
                row["leads_count"],
                row["converted_count"],
                kpis.format_value("rate", row["conversion_rate"]),
                kpis.format_money(row["revenue_amount"]),
                i18n.t("provisional", lang) if row["is_provisional"] else "",
            ]
        )
    return _table(rows, text_columns=2)


def write_pdf(week: WeekData, config: BusinessConfig, path: Path) -> Path:
    lang = config.language
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=8.5, leading=11)
    heading = styles["Heading2"]
    frt_chart, sla_chart, reasons_chart = _charts(week, config, lang)
    story: list[object] = [
        Paragraph(i18n.t("report_title", lang), styles["Title"]),
        Paragraph(
            i18n.t(
                "report_subtitle",
                lang,
                week=week.iso_week,
                start=week.week_start.isoformat(),
                end=week.week_end.isoformat(),
            ),
            styles["Heading3"],
        ),
        Spacer(1, 0.3 * cm),
        Paragraph(i18n.t("report_headline", lang), heading),
        _headline(week, config, lang),
        Spacer(1, 0.2 * cm),
        Paragraph(i18n.t("vs_prev", lang), small),
        Paragraph(i18n.t("report_notes", lang), heading),
        *(_para(note, small) for note in _notes(week, config, lang)),
        Spacer(1, 0.5 * cm),
        frt_chart,
        PageBreak(),
        Paragraph(i18n.t("report_charts", lang), heading),
        sla_chart,
        reasons_chart,
        Spacer(1, 0.4 * cm),
        KeepTogether(
            [Paragraph(i18n.t("report_top_breaches", lang), heading), _breaches(week, config, lang)]
        ),
        PageBreak(),
        Paragraph(i18n.t("report_agents", lang), heading),
        _agents(week, config, lang),
        _para(i18n.t("low_confidence_note", lang, n=config.low_confidence_n), small),
        Spacer(1, 0.4 * cm),
        Paragraph(i18n.t("page_conversion", lang), heading),
        _cohorts(week, lang),
        Spacer(1, 0.4 * cm),
        _para(i18n.t("report_generated", lang, path=week.serving_db), small),
    ]
    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
        title=f"{i18n.t('report_title', lang)} {week.iso_week}",
        author="Bandeja",
    )
    document.build(story)
    return path
