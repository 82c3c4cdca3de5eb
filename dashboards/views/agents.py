"""Agents: one row per agent for one week; cells resting on fewer than n cycles are flagged."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data, kpis, ui

current_filters = ui.filters()
config = data.business_config()
st.title(ui.tr("page_agents"))
ui.not_split_note(current_filters)

weeks = data.query(
    "kpis_weekly",
    grain="all",
    team=None,
    agent=None,
    start=ui.week_start(current_filters.start),
    end=current_filters.end,
)
if ui.empty(weeks):
    st.stop()
week_rows = dict(weeks.select("iso_week", "week_start_date").iter_rows())
iso_week = st.selectbox(ui.tr("week"), sorted(week_rows, reverse=True), key="agents_week")
agents = data.query(
    "agents_weekly",
    week_start=week_rows[iso_week],
    team=current_filters.team,
    agent=current_filters.agent,
)
if ui.empty(agents):
    st.stop()

suffix = "business_" if current_filters.business_time else ""
low_n = config.low_confidence_n


def _flag(value: str, n: int | None) -> str:
    return f"{value} *" if value != kpis.MISSING and (n is None or n < low_n) else value


shown = agents.select(
    pl.col("agent_name").alias(ui.tr("agent")),
    pl.col("team_id").replace(ui.team_names()).alias(ui.tr("team")),
    pl.col("cycles_opened_count").alias(ui.tr("col_volume")),
    pl.struct(frt=f"frt_{suffix}median_seconds", n="frt_n")
    .map_elements(
        lambda cell: _flag(kpis.format_duration(cell["frt"]), cell["n"]), return_dtype=pl.String
    )
    .alias(ui.tr("col_frt")),
    pl.struct(art=f"art_{suffix}median_seconds", n="art_n")
    .map_elements(
        lambda cell: _flag(kpis.format_duration(cell["art"]), cell["n"]), return_dtype=pl.String
    )
    .alias(ui.tr("col_art")),
    pl.struct(rate="sla_compliance_rate", met="sla_met_count", breached="sla_breached_count")
    .map_elements(
        lambda cell: _flag(
            kpis.format_value("rate", cell["rate"]), (cell["met"] or 0) + (cell["breached"] or 0)
        ),
        return_dtype=pl.String,
    )
    .alias(ui.tr("col_sla")),
    pl.struct(rate="csat_rate", n="csat_responses_count")
    .map_elements(
        lambda cell: _flag(kpis.format_value("rate", cell["rate"]), cell["n"]),
        return_dtype=pl.String,
    )
    .alias(ui.tr("col_csat")),
    pl.col("converted_count").alias(ui.tr("col_conversions")),
    pl.col("reassignments_lost_count").alias(ui.tr("col_reassign_lost")),
)
st.subheader(ui.tr("agents_table"))
st.caption(ui.tr("low_confidence_note", n=low_n))
ui.table(shown, f"agents_{iso_week}")
with st.expander(ui.tr("raw_data")):
    ui.table(agents, f"agents_{iso_week}_raw")

figure = go.Figure(
    go.Bar(
        x=agents["agent_name"],
        y=agents[f"frt_{suffix}median_seconds"] / 60,
        text=[f"n={n}" for n in agents["frt_n"]],
        marker_color=["lightgray" if (n or 0) < low_n else "steelblue" for n in agents["frt_n"]],
    )
)
target_minutes = config.sla.business_target_seconds / 60
ui.target_line(figure, target_minutes, f"{ui.tr('target')} {target_minutes:g} min")
figure.update_layout(title=ui.tr("agents_chart"), yaxis_title=ui.tr("minutes"))
ui.chart(figure)
