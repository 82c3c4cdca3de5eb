"""Contact reasons: topics and tags per week."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data, ui

current_filters = ui.filters()
st.title(ui.tr("page_reasons"))
ui.not_split_note(current_filters)
reasons = data.query(
    "contact_reasons",
    start=ui.week_start(current_filters.start),
    end=current_filters.end,
    team=current_filters.team,
)
if ui.empty(reasons):
    st.stop()

left, right = st.columns(2)
for kind, key, holder in (("topic", "reasons_topics", left), ("tag", "reasons_tags", right)):
    subset = reasons.filter(pl.col("reason_kind") == kind)
    with holder:
        if subset.is_empty():
            st.info(ui.tr("no_data"))
            continue
        figure = go.Figure()
        for reason in subset["reason"].unique(maintain_order=True).to_list():
            rows = subset.filter(pl.col("reason") == reason)
            figure.add_bar(x=rows["iso_week"], y=rows["cycles_count"], name=reason)
        figure.update_layout(
            title=ui.tr(key),
            barmode="stack",
            yaxis_title=ui.tr("cycles"),
            xaxis_title=ui.tr("week"),
        )
        ui.chart(figure)

ui.table(reasons, "contact_reasons")
