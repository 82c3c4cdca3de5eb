"""Live queue: who is waiting right now, straight from the inbox API; refreshes itself."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data, ui
from dashboards.live import AGE_BUCKETS, LiveQueueUnavailable, fetch_live_queue

REFRESH_SECONDS = 15

st.title(ui.tr("page_live"))


def _token() -> str:
    settings = data.settings()
    return (settings.dashboard_token or settings.admin_token).get_secret_value()


def _filtered(rows: list[dict], team: str | None, agent: str | None) -> pl.DataFrame:
    frame = pl.DataFrame(rows) if rows else pl.DataFrame()
    if team and "team_id" in frame.columns:
        frame = frame.filter(pl.col("team_id") == team)
    if agent and "agent_id" in frame.columns:
        frame = frame.filter(pl.col("agent_id") == agent)
    return frame


@st.fragment(run_every=REFRESH_SECONDS)
def live_queue() -> None:
    settings = data.settings()
    try:
        snapshot = fetch_live_queue(settings.api_url, _token())
    except LiveQueueUnavailable as exc:
        st.warning(ui.tr("live_unreachable", url=settings.api_url, error=exc))
        return
    current = st.session_state.get("filters")
    team = current.team if current else None
    agent = current.agent if current else None
    st.caption(ui.tr("live_as_of", as_of=snapshot.get("as_of", "?"), seconds=REFRESH_SECONDS))
    totals = snapshot["totals"]
    if team or agent:
        # Per-agent rows add up to the filtered totals; the API's totals cover everyone.
        rows = _filtered(snapshot.get("by_agent", []), team, agent)
        totals = {
            key: int(rows[key].sum()) if key in rows.columns else 0
            for key in ("open", "unattended", "pending", "snoozed")
        }
    cards = st.columns(4)
    for column, key in zip(cards, ("open", "unattended", "pending", "snoozed"), strict=True):
        column.metric(ui.tr(f"live_{key}"), int(totals.get(key, 0)), border=True)

    ages = {row["bucket"]: row["count"] for row in snapshot.get("age_buckets", [])}
    figure = go.Figure(
        go.Bar(x=list(AGE_BUCKETS), y=[ages.get(bucket, 0) for bucket in AGE_BUCKETS])
    )
    config = data.business_config()
    figure.add_vline(x=1.5, line_dash="dash", line_color="firebrick")
    figure.add_annotation(
        x=1.5,
        y=1,
        yref="paper",
        text=f"{config.sla.alert_after_seconds // 60} min",
        showarrow=False,
    )
    figure.update_layout(
        title=ui.tr("live_ages"), yaxis_title=ui.tr("conversations"), xaxis_title=""
    )
    ui.chart(figure)

    left, right = st.columns(2)
    with left:
        st.subheader(ui.tr("live_due_soon"))
        ui.table(_filtered(snapshot.get("due_soon", []), team, agent), "live_due_soon")
    with right:
        st.subheader(ui.tr("live_breaches"))
        ui.table(_filtered(snapshot.get("breaches", []), team, agent), "live_breaches")
    st.subheader(ui.tr("live_alerts"))
    ui.table(_filtered(snapshot.get("alerts", []), team, agent), "live_alerts")
    left, right = st.columns(2)
    with left:
        st.subheader(ui.tr("live_by_agent"))
        ui.table(_filtered(snapshot.get("by_agent", []), team, agent), "live_by_agent")
    with right:
        st.subheader(ui.tr("live_by_team"))
        ui.table(_filtered(snapshot.get("by_team", []), team, None), "live_by_team")


live_queue()
