"""SLA and escalations: compliance by team, agent and hour; the breach list with its owner."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboards import data, kpis, ui

current_filters = ui.filters()
config = data.business_config()
params = current_filters.params()
st.title(ui.tr("page_sla"))
target = config.targets.sla_compliance_rate * 100
target_text = f"{ui.tr('target')} {config.targets.sla_compliance_rate:.0%}"

by_team = data.query("sla_by_team", **params)
met, breached = int(by_team["sla_met_count"].sum()), int(by_team["sla_breached_count"].sum())
cards = st.columns(4)
cards[0].metric(
    ui.tr("kpi_sla"),
    kpis.format_value("rate", met / (met + breached) if met + breached else None),
    border=True,
    help=ui.tr("met_breached", met=met, breached=breached),
)
cards[1].metric(ui.tr("drill_breached"), breached, border=True)

# Daily rows over the same range as the SLA counts; the counts add up exactly.
daily = data.query(
    "kpis_daily",
    grain="team" if current_filters.team else "all",
    team=current_filters.team,
    agent=None,
    start=current_filters.start,
    end=current_filters.end,
)
if not daily.is_empty():
    opened = int(daily["cycles_opened_count"].sum())
    escalated, reassigned = (
        int(daily["escalated_count"].sum()),
        int(daily["reassigned_count"].sum()),
    )
    cards[2].metric(
        ui.tr("escalated_rate"),
        kpis.format_value("rate", escalated / opened if opened else None),
        border=True,
        help=f"{escalated} / {opened}",
    )
    cards[3].metric(
        ui.tr("reassigned_rate"),
        kpis.format_value("rate", reassigned / opened if opened else None),
        border=True,
        help=f"{reassigned} / {opened}",
    )
ui.not_split_note(current_filters)

left, right = st.columns(2)
with left:
    if not ui.empty(by_team):
        figure = go.Figure(
            go.Bar(
                x=by_team["team_name"],
                y=by_team["sla_compliance_rate"] * 100,
                text=[
                    f"{m}/{m + b}"
                    for m, b in by_team.select("sla_met_count", "sla_breached_count").iter_rows()
                ],
            )
        )
        ui.target_line(figure, target, target_text)
        figure.update_layout(title=ui.tr("sla_by_team"), yaxis_title="%", yaxis_range=[0, 105])
        ui.chart(figure)
with right:
    by_hour = data.query("sla_by_hour", tz=config.calendar.timezone, **params)
    if not ui.empty(by_hour):
        figure = go.Figure(
            go.Bar(
                x=by_hour["hour"],
                y=by_hour["sla_compliance_rate"] * 100,
                text=[
                    f"{m}/{m + b}"
                    for m, b in by_hour.select("sla_met_count", "sla_breached_count").iter_rows()
                ],
            )
        )
        ui.target_line(figure, target, target_text)
        figure.update_layout(
            title=ui.tr("sla_by_hour"),
            yaxis_title="%",
            xaxis_title=ui.tr("hour_local"),
            xaxis={"tickmode": "linear", "dtick": 2, "range": [-0.5, 23.5]},
            yaxis_range=[0, 105],
        )
        ui.chart(figure)

st.subheader(ui.tr("sla_by_agent"))
by_agent = data.query("sla_by_agent", low_n=config.low_confidence_n, **params)
ui.table(by_agent, "sla_by_agent")
st.subheader(ui.tr("breach_list"))
breaches = data.query("sla_breaches", **params)
ui.table(ui.with_durations(breaches, ["overdue_seconds"]), "sla_breaches")
st.subheader(ui.tr("sla_by_team"))
ui.table(by_team, "sla_by_team")
