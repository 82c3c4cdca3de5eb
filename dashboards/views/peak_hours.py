"""Peak hours: weekday × hour demand against the agents replying in that slot."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data, i18n, ui

current_filters = ui.filters()
st.title(ui.tr("page_peak"))
st.caption(ui.tr("heatmap_note"))
heatmap = data.query("heatmap", team=current_filters.team)
if ui.empty(heatmap):
    st.stop()
days = i18n.weekday_names(ui.lang())
hours = list(range(24))


def _grid(column: str) -> list[list[float | None]]:
    cells = {(w, h): v for w, h, v in heatmap.select("weekday", "hour", column).iter_rows()}
    return [[cells.get((weekday, hour)) for hour in hours] for weekday in range(1, 8)]


left, right = st.columns(2)
for column, key, unit, scale, holder in (
    ("avg_cycles_per_week", "heatmap_demand", "cycles", "Oranges", left),
    ("agents_active_avg", "heatmap_agents", "agents_unit", "Blues", right),
):
    with holder:
        figure = go.Figure(
            go.Heatmap(
                z=_grid(column),
                x=hours,
                y=days,
                colorscale=scale,
                colorbar={"title": ui.tr(unit)},
                zmin=0,
                hoverongaps=False,
            )
        )
        figure.update_layout(
            title=ui.tr(key),
            xaxis_title=ui.tr("hour_local"),
            yaxis_autorange="reversed",
            xaxis_dtick=2,
        )
        ui.chart(figure)

ui.table(
    heatmap.with_columns(
        (pl.col("avg_cycles_per_week") / pl.col("agents_active_avg")).alias("cycles_per_agent")
    ),
    "peak_hours",
)
