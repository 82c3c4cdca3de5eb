"""SLA timers with an injected clock: the pure rule, then the whole path end to end."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from served import served

from inbox_api.sla import due_escalations
from inbox_api.store.state import Conversation
from ingest.calendar import BusinessCalendar
from ingest.config import SlaConfig
from routing.helpers import (
    ADMIN_TOKEN,
    FakeClock,
    business_config,
    conversation_id,
    deliver,
    events,
    inbound,
    live,
    local,
    new_app,
)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CAL = BusinessCalendar()
SLA = SlaConfig()


def waiting(since: dt.datetime, **fields) -> Conversation:
    return Conversation("i:c", "i", "c", status="open", waiting_since=since, **fields)


def levels(conversation: Conversation, now: dt.datetime) -> list[str]:
    return [action.level for action in due_escalations([conversation], now, CAL, SLA)]


def test_alert_at_ten_and_reassign_at_twenty_business_minutes():
    start = local("2026-11-23 10:00")
    conversation = waiting(start)
    assert levels(conversation, start + dt.timedelta(seconds=599)) == []
    assert levels(conversation, start + dt.timedelta(seconds=600)) == ["alert"]
    conversation.alerted_for = start
    assert levels(conversation, start + dt.timedelta(seconds=1199)) == []
    assert levels(conversation, start + dt.timedelta(seconds=1200)) == ["reassign"]
    conversation.reassigned_for = start
    assert levels(conversation, start + dt.timedelta(hours=3)) == []


def test_the_wait_runs_on_the_business_clock():
    friday = local("2026-11-27 17:55")  # 5 business minutes before closing
    conversation = waiting(friday)
    assert levels(conversation, local("2026-11-28 12:00")) == []  # weekend: no time passes
    assert levels(conversation, local("2026-11-30 09:04")) == []  # 9 business minutes
    assert levels(conversation, local("2026-11-30 09:05")) == ["alert"]
    # Both due at once (e.g. the engine was down): alert first, then reassign.
    assert levels(conversation, local("2026-11-30 09:15")) == ["alert", "reassign"]


def test_the_later_assignment_restarts_the_wait_and_other_states_never_escalate():
    start = local("2026-11-23 10:00")
    assigned = waiting(start, last_assignment_at=start + dt.timedelta(minutes=8))
    assert levels(assigned, start + dt.timedelta(minutes=12)) == []
    assert levels(assigned, start + dt.timedelta(minutes=18)) == ["alert"]
    answered = Conversation("i:c", "i", "c", status="open", waiting_since=None)
    assert levels(answered, start + dt.timedelta(hours=1)) == []
    pending = waiting(start)
    pending.status = "pending"
    assert levels(pending, start + dt.timedelta(hours=1)) == []


class Receiver(BaseHTTPRequestHandler):
    """Loopback alert-webhook receiver: fails the first delivery, keeps the rest."""

    received: ClassVar[list[tuple[bytes, dict[str, str]]]] = []
    calls = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls += 1
        if type(self).calls == 1:
            self.send_response(503)
        else:
            type(self).received.append((body, dict(self.headers)))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        return None


def test_customer_waits_alert_then_reassignment_end_to_end(tmp_path: Path):
    """Signed webhook over HTTP, nobody answers; the engine ticks on the simulated clock."""
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    secret = "alert-secret-0123456789"
    hook = {"url": f"http://127.0.0.1:{receiver.server_port}/alerts", "secret": secret}
    clock = FakeClock(local("2026-11-23 10:00"))
    app = new_app(tmp_path, clock, business_config(alert_webhooks=[hook]))
    app.state.startup_hooks.append(lambda app: _fast_retries(app))
    opened = clock.now
    try:
        with served(app) as client:
            body = inbound(clock.now, "precio por favor")
            deliver(client, body)
            engine = app.state.sla
            fired = {}
            for minute in range(1, 31):
                clock.now = opened + dt.timedelta(minutes=minute)
                for item in engine.tick_sync():
                    fired.setdefault(item["level"], minute)
            assert fired == {"alert": 10, "reassign": 20}
            escalations = events(client, "escalation")
            assert [e["payload"]["level"] for e in escalations] == ["alert", "reassign", "alert"]
            alert, reassign = escalations[0], escalations[1]
            assert alert["occurred_at"].startswith("2026-11-23T16:10:00")
            assert reassign["occurred_at"].startswith("2026-11-23T16:20:00")
            assert alert["actor_kind"] == reassign["actor_kind"] == "sla"
            assert alert["payload"]["agent_id"] == "ana"
            assert alert["payload"]["waiting_since"].startswith("2026-11-23T16:00:00")
            assert (reassign["payload"]["agent_id"], reassign["payload"]["to_agent_id"]) == (
                "ana",
                "beto",
            )
            assignment = events(client, "assignment")[-1]
            assert assignment["payload"]["reason"] == "sla"
            assert assignment["actor_kind"] == "sla"
            assert assignment["occurred_at"].startswith("2026-11-23T16:20:00")
            # The reassignment restarted the wait: beto got his own alert at minute 30.
            assert escalations[2]["payload"]["agent_id"] == "beto"
            live = client.get("/v1/queue/live", headers=ADMIN).json()
            assert [a["level"] for a in live["alerts"]] == ["alert", "reassign", "alert"][::-1]
            app.state.notifier_join()
    finally:
        receiver.shutdown()
    assert Receiver.calls == 4  # one 503, retried, then the two other alerts
    bodies = [json.loads(body) for body, _ in Receiver.received]
    assert [b["level"] for b in bodies] == ["alert", "reassign", "alert"]
    for body, headers in Receiver.received:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Bandeja-Signature"] == expected


def _fast_retries(app):
    """Retries back off without wall-clock sleeping; expose a join for the test thread."""
    import asyncio

    notifier = app.state.notifier
    notifier._sleep = lambda _delay: asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    app.state.notifier_join = lambda: asyncio.run_coroutine_threadsafe(
        notifier.join(), loop
    ).result(10)


def test_escalations_fire_once_and_survive_a_restart(tmp_path: Path):
    clock = FakeClock(local("2026-11-23 10:00"))
    opened = clock.now
    with live(tmp_path, clock) as client:
        body = inbound(clock.now, "precio")
        deliver(client, body)
        clock.now = opened + dt.timedelta(minutes=11)
        assert [a["level"] for a in client.app.state.sla.tick_sync()] == ["alert"]
        assert client.app.state.sla.tick_sync() == []
    with live(tmp_path, clock) as client:  # same files, fresh process state
        assert client.app.state.sla.tick_sync() == []
        clock.now = opened + dt.timedelta(minutes=19)
        assert client.app.state.sla.tick_sync() == []
        # A human reply ends the waiting period: nothing more fires.
        cid = conversation_id()
        reply = client.post(
            f"/v1/conversations/{cid}/messages", json={"text": "hola"}, headers=ADMIN
        )
        assert reply.status_code == 201
        clock.now = opened + dt.timedelta(hours=2)
        assert client.app.state.sla.tick_sync() == []
        assert len(events(client, "escalation")) == 1


def test_queue_in_team_queue_with_nobody_free_does_not_churn(tmp_path: Path):
    clock = FakeClock(local("2026-11-23 10:00"))
    config = business_config()
    agents = [agent.model_dump() for agent in config.agents]
    for agent in agents:
        agent["available"] = False
    with live(tmp_path, clock, business_config(agents=agents)) as client:
        body = inbound(clock.now, "precio")
        deliver(client, body)
        clock.advance(minutes=25)
        assert [a["level"] for a in client.app.state.sla.tick_sync()] == ["alert"]
        clock.advance(minutes=25)
        assert client.app.state.sla.tick_sync() == []
        assert [e["payload"]["level"] for e in events(client, "escalation")] == ["alert"]
