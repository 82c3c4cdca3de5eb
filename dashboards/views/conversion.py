"""Conversion: lead cohorts by week, the funnel, revenue; young cohorts are marked provisional."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboards import data, kpis, ui

current_filters = ui.filters()
config = data.business_config()
st.title(ui.tr("page_conversion"))
ui.not_split_note(current_filters)
cohorts = data.query(
    "conversion_cohorts",
    start=ui.week_start(current_filters.start),
    end=current_filters.end,
    team=current_filters.team,
)
if ui.empty(cohorts):
    st.stop()

leads, converted = int(cohorts["leads_count"].sum()), int(cohorts["converted_count"].sum())
revenue = float(cohorts["revenue_amount"].fill_null(0).sum())
cards = st.columns(3)
cards[0].metric(ui.tr("funnel_leads"), leads, border=True)
cards[1].metric(
    ui.tr("kpi_conversion"),
    kpis.format_value("rate", converted / leads if leads else None),
    border=True,
    help=f"{converted} / {leads}",
)
cards[2].metric(ui.tr("revenue").capitalize(), kpis.format_money(revenue), border=True)
st.caption(ui.tr("provisional_note", days=config.conversion_window_days))

labels = [
    f"{week} ({ui.tr('provisional')})" if provisional else week
    for week, provisional in cohorts.select("iso_week", "is_provisional").iter_rows()
]
colors = ["lightgray" if p else "seagreen" for p in cohorts["is_provisional"]]
left, right = st.columns(2)
with left:
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=cohorts["conversion_rate"] * 100,
            marker_color=colors,
            text=[
                f"{c}/{n}" for c, n in cohorts.select("converted_count", "leads_count").iter_rows()
            ],
        )
    )
    figure.update_layout(title=ui.tr("conversion_cohorts"), yaxis_title="%", yaxis_range=[0, 105])
    ui.chart(figure)
with right:
    figure = go.Figure(go.Bar(x=labels, y=cohorts["revenue_amount"], marker_color=colors))
    figure.update_layout(title=ui.tr("conversion_revenue"), yaxis_title=ui.tr("revenue"))
    ui.chart(figure)

weekly = data.query(
    "kpis_weekly",
    grain="team" if current_filters.team else "all",
    team=current_filters.team,
    agent=None,
    start=ui.week_start(current_filters.start),
    end=current_filters.end,
)
cycles = int(weekly["cycles_opened_count"].sum()) if not weekly.is_empty() else 0
figure = go.Figure(
    go.Funnel(
        y=[ui.tr("funnel_cycles"), ui.tr("funnel_leads"), ui.tr("funnel_converted")],
        x=[cycles, leads, converted],
        textinfo="value+percent initial",
    )
)
figure.update_layout(title=ui.tr("conversion_funnel"))
ui.chart(figure)
ui.table(cohorts, "conversion_cohorts")
