"""The router with an injected clock: topic, team, agent, capacity, shifts, manual wins,
off-hours promise, first-message menu."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.helpers import (
    ADMIN_TOKEN,
    FakeClock,
    LiveClient,
    business_config,
    conversation_id,
    deliver,
    events,
    inbound,
    live,
    local,
)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def post(client: LiveClient, body: bytes) -> None:
    deliver(client, body)
    client.app.state.automation.sender.wait_idle()


def conversation(client: LiveClient, wa_id: str = "5215511111111") -> dict:
    response = client.get(f"/v1/conversations/{conversation_id(wa_id)}", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(local("2026-11-23 10:00"))  # a Monday, open


def test_keyword_sets_topic_team_and_least_loaded_agent(tmp_path: Path, clock: FakeClock):
    with live(tmp_path, clock) as client:
        post(client, inbound(clock.now, "Hola, ¿qué PRECIO tiene?", wa_id="1"))
        first = conversation(client, "1")
        assert (first["topic"], first["team_id"], first["assignee_id"]) == (
            "sales_lead",
            "sales",
            "ana",  # tie at zero open: smallest id
        )
        post(client, inbound(clock.now, "quiero comprar", wa_id="2"))
        assert conversation(client, "2")["assignee_id"] == "beto"  # ana has one open now
        post(client, inbound(clock.now, "price please", wa_id="3"))
        assert conversation(client, "3")["assignee_id"] == "ana"
        topics = events(client, "topic")
        assert topics[0]["payload"] == {"topic": "sales_lead", "team_id": "sales"}
        assignments = events(client, "assignment")
        assert [a["payload"]["reason"] for a in assignments] == ["router"] * 3
        assert assignments[0]["actor_kind"] == "system"


def test_full_capacity_leaves_the_cycle_in_the_team_queue(tmp_path: Path, clock: FakeClock):
    with live(tmp_path, clock) as client:
        for n in range(5):  # ana and beto hold 2 each (capacity 2)
            post(client, inbound(clock.now, "precio", wa_id=str(n)))
        queued = conversation(client, "4")
        assert queued["assignee_id"] is None and queued["team_id"] == "sales"
        counts = {}
        for n in range(4):
            agent = conversation(client, str(n))["assignee_id"]
            counts[agent] = counts.get(agent, 0) + 1
        assert counts == {"ana": 2, "beto": 2}


def test_off_shift_and_unavailable_agents_are_skipped(tmp_path: Path, clock: FakeClock):
    config = business_config()
    agents = [agent.model_dump() for agent in config.agents]
    agents[0]["available"] = False  # ana away
    agents[1]["shifts"] = {"mon": ["14:00-18:00"]}  # beto starts later
    config = business_config(agents=agents)
    with live(tmp_path, clock, config) as client:
        post(client, inbound(clock.now, "precio", wa_id="1"))
        assert conversation(client, "1")["assignee_id"] is None
        clock.now = local("2026-11-23 15:00")
        post(client, inbound(clock.now, "precio", wa_id="2"))
        assert conversation(client, "2")["assignee_id"] == "beto"


def test_no_keyword_goes_to_default_team_and_payload_routes(tmp_path: Path, clock: FakeClock):
    with live(tmp_path, clock) as client:
        post(client, inbound(clock.now, "buenas tardes", wa_id="1"))
        plain = conversation(client, "1")
        assert (plain["topic"], plain["team_id"], plain["assignee_id"]) == (
            None,
            "support",
            "carla",
        )
        post(client, inbound(clock.now, "Ventas", wa_id="2", interactive_id="menu_sales"))
        tapped = conversation(client, "2")
        assert (tapped["topic"], tapped["assignee_id"]) == ("sales_lead", "ana")


def test_menu_then_answer_reroutes_unless_a_person_assigned(tmp_path: Path, clock: FakeClock):
    config = business_config(menu={"enabled": True})
    with live(tmp_path, clock, config) as client:
        post(client, inbound(clock.now, "hello there", wa_id="1"))
        menu = [e for e in events(client, "message") if e["payload"]["direction"] == "outbound"]
        assert len(menu) == 1
        assert menu[0]["payload"]["sender_kind"] == "automation"
        assert menu[0]["payload"]["automation_kind"] == "auto_reply"
        assert menu[0]["payload"]["body"] == "Hi! How can we help? Pick an option."
        assert conversation(client, "1")["assignee_id"] == "carla"
        post(client, inbound(clock.now, "Sales", wa_id="1", interactive_id="menu_sales"))
        moved = conversation(client, "1")
        assert (moved["topic"], moved["team_id"], moved["assignee_id"]) == (
            "sales_lead",
            "sales",
            "ana",
        )
        # Second customer: a supervisor assigns by hand before the menu answer; manual wins.
        post(client, inbound(clock.now, "hola", wa_id="2"))
        cid = conversation_id("2")
        response = client.post(
            f"/v1/conversations/{cid}/assignment", json={"agent_id": "carla"}, headers=ADMIN
        )
        assert response.status_code == 200
        post(client, inbound(clock.now, "Ventas", wa_id="2", interactive_id="menu_sales"))
        kept = conversation(client, "2")
        assert (kept["topic"], kept["assignee_id"]) == ("sales_lead", "carla")


def test_off_hours_promise_once_per_cycle(tmp_path: Path):
    clock = FakeClock(local("2026-11-23 20:00"))  # closed
    with live(tmp_path, clock) as client:
        post(client, inbound(clock.now, "my order is broken, help", wa_id="1"))
        post(client, inbound(clock.now, "hello?", wa_id="1"))
        automated = [
            e for e in events(client, "message") if e["payload"]["automation_kind"] == "off_hours"
        ]
        assert len(automated) == 1
        payload = automated[0]["payload"]
        assert payload["sender_kind"] == "automation" and payload["direction"] == "outbound"
        assert "within 30 minutes" in payload["body"]  # English customer, English promise
        assert conversation(client, "1")["assignee_id"] is None  # nobody on shift
        # Resolve and write again: a new cycle gets its own promise, in Spanish this time.
        cid = conversation_id("1")
        client.post(f"/v1/conversations/{cid}/status", json={"status": "resolved"}, headers=ADMIN)
        client.app.state.automation.sender.wait_idle()
        clock.advance(minutes=5)
        post(client, inbound(clock.now, "hola, necesito ayuda", wa_id="1"))
        automated = [
            e for e in events(client, "message") if e["payload"]["automation_kind"] == "off_hours"
        ]
        assert len(automated) == 2
        assert "30 minutos" in automated[1]["payload"]["body"]
        # Automated messages are not human replies: the customer is still waiting.
        assert conversation(client, "1")["waiting_since"] is not None
