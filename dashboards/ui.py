"""Shared page pieces: sidebar filters, labels in the chosen language, tables with CSV export."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data, i18n
from dashboards.kpis import format_duration

ALL = "__all__"
DEFAULT_RANGE_DAYS = 56


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    team: str | None
    agent: str | None
    inbox: str | None
    tag: str | None
    business_time: bool

    def params(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "team": self.team,
            "agent": self.agent,
            "inbox": self.inbox,
            "tag": self.tag,
        }


def lang() -> str:
    return st.session_state.get("lang") or data.business_config().language


def tr(key: str, **values: object) -> str:
    return i18n.t(key, lang(), **values)


def language_switch() -> None:
    default = data.business_config().language
    st.sidebar.segmented_control(
        "Language / Idioma",
        options=list(i18n.LANGUAGES),
        default=default,
        format_func=lambda code: {"es": "Español", "en": "English"}[code],
        key="lang",
    )


def _kept(key: str, default: Any) -> Any:
    return st.session_state.get(f"kept_{key}", default)


def _keep(key: str, value: Any) -> Any:
    # A widget whose label changes (language switch) is a new widget that would start from its
    # default; the kept copy carries the user's choice over.
    st.session_state[f"kept_{key}"] = value
    return value


def _choice(label: str, options: list[str], names: dict[str, str], key: str) -> str | None:
    choices = [ALL, *options]
    kept = _kept(key, ALL)
    choice = st.sidebar.selectbox(
        label,
        choices,
        index=choices.index(kept) if kept in choices else 0,
        format_func=lambda value: tr("all") if value == ALL else names.get(value, value),
        key=key,
    )
    _keep(key, choice)
    return None if choice == ALL else choice


def team_names() -> dict[str, str]:
    names = dict(data.query("dim_teams").iter_rows())
    names.update({team.id: team.name for team in data.business_config().teams})
    return names


def agent_names() -> dict[str, str]:
    agents = data.query("dim_agents")
    return dict(zip(agents["agent_id"], agents["agent_name"], strict=True))


def sidebar_filters() -> Filters:
    """Draw the filters (the snapshot must exist) and remember them for the pages."""
    st.sidebar.header(tr("filters"))
    bounds = data.query("date_bounds").row(0, named=True)
    last = bounds["last_date"] or dt.date.today()
    first = bounds["first_date"] or last
    default_start = max(first, last - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1))
    picked = st.sidebar.date_input(
        tr("date_range"),
        value=_kept("date_range", (default_start, last)),
        min_value=first - dt.timedelta(days=366),
        max_value=last + dt.timedelta(days=366),
        key="date_range",
    )
    # While the user is picking, the widget holds only the first date.
    dates = list(picked) if isinstance(picked, list | tuple) else [picked]
    if len(dates) == 2:
        _keep("date_range", tuple(dates))
    start = dates[0] if dates else default_start
    end = dates[1] if len(dates) > 1 else start
    teams = team_names()
    team = _choice(tr("team"), sorted(teams), teams, "team")
    agents = data.query("dim_agents")
    if team is not None:
        agents = agents.filter(pl.col("team_id") == team)
    agent = _choice(
        tr("agent"),
        agents["agent_id"].to_list(),
        dict(zip(agents["agent_id"], agents["agent_name"], strict=True)),
        "agent",
    )
    inboxes = data.query("inboxes")["inbox_id"].to_list()
    inbox = _choice(tr("inbox"), inboxes, {}, "inbox")
    tag = _choice(tr("tag"), data.query("tags")["tag"].to_list(), {}, "tag")
    business_time = _keep(
        "business_time",
        st.sidebar.toggle(
            tr("business_time"),
            value=_kept("business_time", False),
            key="business_time",
            help=tr("business_time_help"),
        ),
    )
    filters = Filters(start, end, team, agent, inbox, tag, business_time)
    st.session_state["filters"] = filters
    return filters


def filters() -> Filters:
    return st.session_state["filters"]


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def table(frame: pl.DataFrame, name: str, **dataframe_args: Any) -> None:
    """A table with its CSV download; timestamps shown in the business timezone."""
    if frame.is_empty():
        st.info(tr("no_data"))
        return
    shown = localize(frame)
    st.dataframe(shown, hide_index=True, **dataframe_args)
    st.download_button(
        tr("download_csv"),
        shown.write_csv(),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"download_{name}",
        on_click="ignore",
    )


def localize(frame: pl.DataFrame) -> pl.DataFrame:
    timezone = data.business_config().calendar.timezone
    return frame.with_columns(
        pl.col(name).dt.convert_time_zone(timezone)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )


def with_durations(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Readable copies (`4m 00s`) of second columns, next to the raw seconds for CSV users."""
    return frame.with_columns(
        pl.col(column)
        .map_elements(format_duration, return_dtype=pl.String)
        .alias(column.replace("_seconds", ""))
        for column in columns
        if column in frame.columns
    )


def chart(figure: go.Figure) -> None:
    figure.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 10}, height=360)
    st.plotly_chart(figure, width="stretch")


def target_line(figure: go.Figure, value: float, text: str) -> None:
    figure.add_hline(
        y=value,
        line_dash="dash",
        line_color="firebrick",
        annotation_text=text,
        annotation_position="top left",
    )


def empty(frame: pl.DataFrame) -> bool:
    if frame.is_empty():
        st.info(tr("no_data"))
        return True
    return False


def not_split_note(current: Filters) -> None:
    if current.inbox or current.tag:
        st.caption(tr("not_split_note"))
