"""Conversation drill-down: filter cycles to a list, open one, read its timeline."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data, ui

current_filters = ui.filters()
st.title(ui.tr("page_drilldown"))
views = {
    "all": "drill_all",
    "breached": "drill_breached",
    "csat_low": "drill_csat_low",
    "escalated": "drill_escalated",
    "unanswered": "drill_unanswered",
}
view = st.radio(
    ui.tr("drill_show"),
    list(views),
    format_func=lambda value: ui.tr(views[value]),
    horizontal=True,
    key="drill_view",
)
cycles = data.query(
    "cycles_list",
    only_breached=view == "breached",
    csat_max=2 if view == "csat_low" else None,
    only_escalated=view == "escalated",
    only_unanswered=view == "unanswered",
    **current_filters.params(),
)
st.caption(ui.tr("drill_list", n=cycles.height))
if ui.empty(cycles):
    st.stop()
ui.table(
    ui.with_durations(cycles, ["frt_seconds", "frt_business_seconds", "resolution_seconds"]),
    "cycles",
)

cycle_id = st.selectbox(ui.tr("drill_open"), cycles["cycle_id"].to_list(), key="drill_cycle")
cycle = data.query("cycle_one", cycle_id=cycle_id)
if ui.empty(cycle):
    st.stop()
row = cycle.row(0, named=True)
messages = data.query("cycle_messages", cycle_id=cycle_id)
escalations = data.query("cycle_escalations", cycle_id=cycle_id)

st.subheader(ui.tr("drill_timeline", cycle=cycle_id))
milestones = [
    (row["clock_start_at"], ui.tr("event_clock_start"), "", None),
    (row["sla_deadline_at"], ui.tr("event_deadline"), row["sla_status"] or "", None),
    (row["first_response_at"], ui.tr("event_first_response"), "", row["first_responder_agent_id"]),
    (
        row["resolved_at"],
        ui.tr("event_resolved"),
        row["resolution_kind"] or "",
        row["resolving_agent_id"],
    ),
]
events = [
    {"at": at, "lane": lane, "detail": detail, "agent_id": agent}
    for at, lane, detail, agent in milestones
    if at is not None
]
events += [
    {
        "at": message["sent_at"],
        "lane": f"{ui.tr('event_message')}: {message['direction']}",
        "detail": f"{message['sender_kind']} {message['message_type']}",
        "agent_id": message["agent_id"],
    }
    for message in messages.iter_rows(named=True)
]
events += [
    {
        "at": escalation["escalated_at"],
        "lane": f"{ui.tr('event_escalation')}: {escalation['level']}",
        "detail": f"{escalation['from_agent_id']} → {escalation['to_agent_id'] or '-'}",
        "agent_id": escalation["from_agent_id"],
    }
    for escalation in escalations.iter_rows(named=True)
]
timeline = ui.localize(
    pl.DataFrame(
        events,
        schema={
            "at": pl.Datetime("us", "UTC"),
            "lane": pl.String,
            "detail": pl.String,
            "agent_id": pl.String,
        },
    ).sort("at")
)
figure = go.Figure(
    go.Scatter(
        x=timeline["at"],
        y=timeline["lane"],
        mode="markers",
        marker={"size": 12},
        text=[f"{d} {a or ''}" for d, a in timeline.select("detail", "agent_id").iter_rows()],
        hoverinfo="x+y+text",
    )
)
figure.update_layout(title=ui.tr("drill_timeline", cycle=cycle_id), xaxis_title="")
ui.chart(figure)
ui.table(timeline, f"timeline_{cycle_id}")
left, right = st.columns(2)
with left:
    ui.table(messages, f"messages_{cycle_id}")
if not escalations.is_empty():
    with right:
        ui.table(escalations, f"escalations_{cycle_id}")
with st.expander(cycle_id):
    st.json({key: str(value) for key, value in row.items()})
