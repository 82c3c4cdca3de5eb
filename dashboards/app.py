"""Streamlit entrypoint: the sidebar filters and the page router (`bandeja dashboard`).

The pages live in `views/`, not `pages/`: a `pages/` folder next to the entrypoint switches
Streamlit to its older directory-based navigation on reruns, which skips this router.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import data, ui

VIEWS = Path(__file__).parent / "views"

st.set_page_config(page_title="Bandeja", page_icon=":speech_balloon:", layout="wide")


def _page(file: str, key: str, url: str, default: bool = False) -> st.Page:
    return st.Page(VIEWS / file, title=ui.tr(key), url_path=url, default=default)


def main() -> None:
    ui.language_switch()
    navigation = st.navigation(
        {
            ui.tr("section_now"): [
                _page("overview.py", "page_overview", "overview", default=True),
                _page("live_queue.py", "page_live", "live"),
            ],
            ui.tr("section_quality"): [
                _page("sla.py", "page_sla", "sla"),
                _page("agents.py", "page_agents", "agents"),
                _page("peak_hours.py", "page_peak", "peak-hours"),
            ],
            ui.tr("section_business"): [
                _page("contact_reasons.py", "page_reasons", "contact-reasons"),
                _page("conversion.py", "page_conversion", "conversion"),
            ],
            ui.tr("section_detail"): [
                _page("drilldown.py", "page_drilldown", "drilldown"),
            ],
        }
    )
    serving_db = data.settings().serving_db
    needs_snapshot = navigation.url_path != "live"
    try:
        if data.snapshot_version(serving_db) is not None:
            ui.sidebar_filters()
        elif needs_snapshot:
            st.title(navigation.title)
            st.info(ui.tr("no_snapshot", path=serving_db))
            return
        navigation.run()
    except data.SnapshotError as exc:
        st.error(ui.tr("snapshot_error", error=exc))


main()
