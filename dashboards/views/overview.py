"""Overview: the headline KPIs of the latest week in range against targets, and their trends."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data, kpis, ui

current_filters = ui.filters()
config = data.business_config()
st.title(ui.tr("page_overview"))
ui.not_split_note(current_filters)

if current_filters.agent:
    grain, team, agent = "agent", None, current_filters.agent
elif current_filters.team:
    grain, team, agent = "team", current_filters.team, None
else:
    grain, team, agent = "all", None, None
# One week before the range so the first week in range has a week-over-week delta.
first_week = ui.week_start(current_filters.start) - dt.timedelta(days=7)
weeks = data.query(
    "kpis_weekly", grain=grain, team=team, agent=agent, start=first_week, end=current_filters.end
)
if ui.empty(weeks):
    st.stop()
backlog = data.query(
    "backlog_weekly",
    team=current_filters.team,
    agent=current_filters.agent,
    start=first_week,
    end=current_filters.end + dt.timedelta(days=6),
)
weeks = weeks.join(
    backlog.select("week_start_date", pl.col("open_count").alias("backlog_open_count")),
    on="week_start_date",
    how="left",
)
rows = {row["week_start_date"]: row for row in weeks.iter_rows(named=True)}
current = rows[max(rows)]
previous = rows.get(current["week_start_date"] - dt.timedelta(days=7))

st.subheader(
    ui.tr("week_of", week=current["iso_week"], start=current["week_start_date"].isoformat())
)
st.caption(ui.tr("vs_prev"))
cards = st.columns(4)
for index, kpi in enumerate(kpis.headline_kpis(config)):
    value = kpis.value_of(kpi, current, current_filters.business_time)
    before = kpis.value_of(kpi, previous, current_filters.business_time)
    with cards[index % 4]:
        st.metric(
            ui.tr(kpi.key),
            kpis.format_value(kpi.kind, value),
            delta=kpis.format_delta(kpi.kind, value, before),
            delta_color="inverse" if kpi.lower_is_better else "normal",
            border=True,
            help=ui.tr(
                "met_breached", met=current["sla_met_count"], breached=current["sla_breached_count"]
            )
            if kpi.key == "kpi_sla"
            else None,
        )
        notes = []
        met = kpis.meets_target(kpi, value)
        if met is not None:
            notes.append(
                f"{ui.tr('target')} {kpis.format_target(kpi)} · "
                + (ui.tr("on_target") if met else ui.tr("off_target"))
            )
        n = kpis.n_of(kpi, current)
        if n is not None:
            notes.append(f"n = {n}")
        st.caption(" · ".join(notes) or " ")

if current.get("is_low_confidence"):
    st.warning(ui.tr("low_confidence_note", n=config.low_confidence_n))

suffix = "business_" if current_filters.business_time else ""
# The trend includes the week before the range: the one the deltas compare with.
trend = weeks
frt_target_minutes = config.sla.business_target_seconds / 60
left, right = st.columns(2)
with left:
    figure = go.Figure()
    for stat in ("median", "p90"):
        figure.add_scatter(
            x=trend["iso_week"],
            y=trend[f"frt_{suffix}{stat}_seconds"] / 60,
            mode="lines+markers",
            name=ui.tr(stat),
        )
    ui.target_line(figure, frt_target_minutes, f"{ui.tr('target')} {frt_target_minutes:g} min")
    figure.update_layout(
        title=ui.tr("trend_frt"), yaxis_title=ui.tr("minutes"), xaxis_title=ui.tr("week")
    )
    ui.chart(figure)
with right:
    figure = go.Figure()
    figure.add_scatter(
        x=trend["iso_week"],
        y=trend["sla_compliance_rate"] * 100,
        mode="lines+markers",
        name=ui.tr("kpi_sla"),
    )
    figure.add_scatter(
        x=trend["iso_week"], y=trend["csat_rate"] * 100, mode="lines+markers", name="CSAT"
    )
    figure.add_scatter(
        x=trend["iso_week"],
        y=trend["conversion_rate"] * 100,
        mode="lines+markers",
        name=ui.tr("kpi_conversion"),
    )
    ui.target_line(
        figure,
        config.targets.sla_compliance_rate * 100,
        f"{ui.tr('target')} SLA {config.targets.sla_compliance_rate:.0%}",
    )
    figure.update_layout(
        title=ui.tr("trend_sla"),
        yaxis_title=ui.tr("percent"),
        yaxis_range=[0, 105],
        xaxis_title=ui.tr("week"),
    )
    ui.chart(figure)

ui.table(weeks, "kpis_weekly")
