"""The Live queue page against the real inbox API (uvicorn on a loopback port).

The page's behaviour when the API is unreachable is covered in test_dashboard_pages.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dashboard_helpers import APP
from routing.helpers import ADMIN_TOKEN, FakeClock, deliver, inbound, local, new_app
from served import serve
from streamlit.testing.v1 import AppTest

from dashboards import i18n
from dashboards.live import LiveQueueUnavailable, fetch_live_queue


@pytest.fixture
def live_api(tmp_path: Path) -> Iterator[str]:
    """The inbox API with three customers waiting: two for sales, one for support."""
    clock = FakeClock(local("2026-11-23 10:00"))
    with serve(new_app(tmp_path, clock)) as base:
        for minutes, text, wa_id in ((12, "precio", "1"), (3, "comprar", "2"), (1, "falla", "3")):
            body = inbound(clock.now - dt.timedelta(minutes=minutes), text, wa_id=wa_id)
            with httpx.Client(base_url=base) as client:
                deliver(client, body)
        yield base


def _metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_live_page_shows_the_queue(
    dashboard_env: Path, live_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANDEJA_API_URL", live_api)
    monkeypatch.setenv("BANDEJA_DASHBOARD_TOKEN", ADMIN_TOKEN)
    expected = fetch_live_queue(live_api, ADMIN_TOKEN)["totals"]
    assert expected["unattended"] == 3
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("views/live_queue.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.warning, [w.value for w in at.warning]
    shown = _metrics(at)
    assert shown[i18n.t("live_open", "es")] == str(expected["open"])
    assert shown[i18n.t("live_unattended", "es")] == "3"
    tables = [element.value for element in at.dataframe]
    by_team = next(t for t in tables if list(t.columns)[:2] == ["team_id", "open"])
    assert dict(zip(by_team["team_id"], by_team["unattended"], strict=True)) == {
        "sales": 2,
        "support": 1,
    }

    at.selectbox(key="team").select("support").run()
    assert _metrics(at)[i18n.t("live_unattended", "es")] == "1"


def test_live_page_with_a_wrong_token_says_so(
    dashboard_env: Path, live_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANDEJA_API_URL", live_api)
    monkeypatch.setenv("BANDEJA_DASHBOARD_TOKEN", "not-a-token")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("views/live_queue.py").run()
    assert not at.exception
    assert "HTTP 401" in at.warning[0].value


def test_fetch_errors_are_clear(live_api: str) -> None:
    with pytest.raises(LiveQueueUnavailable, match="HTTP 401"):
        fetch_live_queue(live_api, "wrong")
    with pytest.raises(LiveQueueUnavailable, match="HTTP 404"):
        fetch_live_queue(live_api + "/elsewhere", ADMIN_TOKEN)
