"""The agents' web inbox in a real headless Chromium against uvicorn on a loopback port."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import httpx
import pytest
from routing.helpers import (
    ADMIN_TOKEN,
    FakeClock,
    agent_token,
    conversation_id,
    deliver,
    inbound,
    local,
    new_app,
)
from served import serve

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium not installed"),
]


def write(client: httpx.Client, at: dt.datetime, text: str, wa_id: str, name: str) -> None:
    body = inbound(at, text, wa_id=wa_id, name=name)
    deliver(client, body)


def test_sign_in_answer_and_watch_it_leave_the_queue(tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    clock = FakeClock(local("2026-11-23 10:30"))
    app = new_app(tmp_path, clock)
    with serve(app) as base, httpx.Client(base_url=base, timeout=10) as api:
        ana = agent_token(api, "ana")
        supervisor = agent_token(api, "sofia", role="supervisor")
        write(
            api,
            clock.now - dt.timedelta(minutes=8),
            "Hola, ¿precio del plan anual?",
            "1",
            "Priya Shah",
        )
        write(
            api,
            clock.now - dt.timedelta(minutes=2),
            "quiero comprar 3 licencias",
            "3",
            "Luis Pérez",
        )
        write(api, clock.now - dt.timedelta(minutes=1), "precio por favor", "2", "Marta Gómez")
        write(api, clock.now, "mi equipo tiene una falla", "4", "Jorge Ruiz")
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        api.post(
            "/v1/quick-replies",
            json={
                "shortcut": "/precio",
                "body": "El plan anual cuesta 1 200 MXN.",
                "team_id": "sales",
            },
            headers=admin,
        ).raise_for_status()
        api.put(
            "/v1/templates/seguimiento/es",
            json={
                "name": "seguimiento",
                "language": "es",
                "category": "utility",
                "body": "Hola {{1}}, ¿pudimos resolver tu duda?",
                "status": "approved",
            },
            headers=admin,
        ).raise_for_status()
        clock.advance(minutes=11)  # everyone waited 11 minutes: the SLA engine alerts
        assert {a["level"] for a in app.state.sla.tick_sync()} == {"alert"}
        target = conversation_id("1")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                for width, height, tag in ((1366, 768, "desktop"), (390, 844, "phone")):
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(f"{base}/")  # the bare address, as a person types it
                    expect(page).to_have_url(f"{base}/inbox/login")
                    page.screenshot(path=SHOTS / f"{tag}-1-login.png")
                    page.fill("#token", supervisor)
                    page.click("button[type=submit]")
                    expect(page.locator("#live-queue")).to_be_visible()
                    expect(page.locator("#alerts li.alert-alert")).to_have_count(4)
                    page.screenshot(path=SHOTS / f"{tag}-2-supervisor.png", full_page=True)
                    page.click("form[action='/inbox/logout'] button")
                    page.close()
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                page.goto(f"{base}/inbox/login")
                page.fill("#token", "bdj_wrong")
                page.click("button[type=submit]")
                expect(page.locator(".flash.error")).to_be_visible()
                page.fill("#token", ana)
                page.click("button[type=submit]")
                mine = page.locator(f"#my-queue li[data-conversation='{target}']")
                expect(mine).to_be_visible()
                cookie = next(c for c in page.context.cookies() if c["name"] == "bandeja_session")
                assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
                page.screenshot(path=SHOTS / "desktop-3-queue.png", full_page=True)
                mine.locator("a").click()
                expect(page.locator("#thread")).to_contain_text("precio del plan anual")
                page.select_option("#quick", label="/precio · El plan anual cuesta 1 200 MXN.")
                expect(page.locator("#reply-text")).to_have_value("El plan anual cuesta 1 200 MXN.")
                page.fill("#reply-text", "¡Hola Priya! El plan anual cuesta 1 200 MXN.")
                page.screenshot(path=SHOTS / "desktop-4-conversation.png", full_page=True)
                page.click("#send-reply")
                expect(page).to_have_url(f"{base}/inbox?msg=Hecho.")
                expect(page.locator(f"#my-queue li[data-conversation='{target}']")).to_have_count(0)
                expect(page.locator(f"#my-other li[data-conversation='{target}']")).to_be_visible()
                page.screenshot(path=SHOTS / "desktop-5-answered.png", full_page=True)
                page.goto(f"{base}/inbox/lang/en?next=/inbox")
                expect(page.locator("h2").first).to_contain_text("Waiting for my reply")
                phone = browser.new_page(viewport={"width": 390, "height": 844})
                phone.context.add_cookies(page.context.cookies())
                phone.goto(f"{base}/inbox/c/{conversation_id('2')}")
                expect(phone.locator("#thread")).to_contain_text("precio por favor")
                phone.screenshot(path=SHOTS / "phone-3-conversation.png", full_page=True)
                # A form without the CSRF token is refused.
                refused = phone.request.post(
                    f"{base}/inbox/c/{conversation_id('2')}/note", form={"body": "x"}
                )
                assert refused.status == 403
            finally:
                browser.close()
    events = [e for e in _feed(app) if e["event_type"] == "message"]
    replies = [e for e in events if e["payload"]["sender_kind"] == "agent"]
    assert [(r["actor_id"], r["conversation_id"]) for r in replies] == [("ana", target)]


def _feed(app) -> list[dict]:
    import orjson

    from inbox_api.store.writer import EventStore

    store = EventStore(app.state.settings.inbox_db)
    try:
        rows = (
            store.reader()
            .execute(
                "select event_type, actor_id, conversation_id, payload from events order by seq"
            )
            .fetchall()
        )
    finally:
        store.close()
    return [
        {"event_type": t, "actor_id": a, "conversation_id": c, "payload": orjson.loads(p)}
        for t, a, c, p in rows
    ]
