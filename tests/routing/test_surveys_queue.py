"""Surveys on resolve, answers against the closed cycle, the live queue, config errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.config import BusinessConfig, ConfigError, load_config
from routing.helpers import (
    ADMIN_TOKEN,
    FakeClock,
    LiveClient,
    agent_token,
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


def resolve(client: LiveClient, wa_id: str = "5215511111111") -> None:
    cid = conversation_id(wa_id)
    response = client.post(
        f"/v1/conversations/{cid}/status", json={"status": "resolved"}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    client.app.state.automation.sender.wait_idle()


def test_csat_survey_answer_typed_and_tapped_stays_in_the_cycle(tmp_path: Path):
    clock = FakeClock(local("2026-11-23 10:00"))
    config = business_config(surveys={"csat": True, "nps": True})
    with live(tmp_path, clock, config) as client:
        post(client, inbound(clock.now, "precio"))
        resolve(client)
        sent = events(client, "survey_sent")
        assert [s["payload"]["kind"] for s in sent] == ["csat"]
        survey_id = sent[0]["payload"]["survey_id"]
        assert survey_id == f"survey:{conversation_id()}:1:csat"
        survey_message = [
            e for e in events(client, "message") if e["payload"]["automation_kind"] == "survey"
        ]
        assert survey_message[0]["payload"]["message_type"] == "interactive"
        assert survey_message[0]["payload"]["message_id"] == sent[0]["payload"]["message_id"]
        clock.advance(minutes=2)
        post(client, inbound(clock.now, "5 ★★★★★", interactive_id="csat_5"))
        answers = events(client, "survey_answer")
        assert [a["payload"] for a in answers] == [
            {"survey_id": survey_id, "kind": "csat", "score": 5}
        ]
        assert answers[0]["actor_kind"] == "customer"
        state = client.get(f"/v1/conversations/{conversation_id()}", headers=ADMIN).json()
        assert (state["status"], state["cycle_number"]) == ("resolved", 1)
        # NPS follows; a typed "9" answers it, still without opening a cycle.
        assert [s["payload"]["kind"] for s in events(client, "survey_sent")] == ["csat", "nps"]
        post(client, inbound(clock.now, "9"))
        assert events(client, "survey_answer")[-1]["payload"]["score"] == 9
        # Anything else after that is a new request: a new cycle.
        post(client, inbound(clock.now, "gracias!"))
        state = client.get(f"/v1/conversations/{conversation_id()}", headers=ADMIN).json()
        assert (state["status"], state["cycle_number"]) == ("open", 2)


def test_not_an_answer_opens_a_new_cycle_and_closed_window_needs_a_template(tmp_path: Path):
    clock = FakeClock(local("2026-11-23 10:00"))
    template = {"name": "csat_survey", "language": "es"}
    config = business_config(surveys={"csat_template": template})
    with live(tmp_path, clock, config) as client:
        post(client, inbound(clock.now, "precio"))
        resolve(client)
        post(client, inbound(clock.now, "7"))  # out of the 1-5 range: a message
        state = client.get(f"/v1/conversations/{conversation_id()}", headers=ADMIN).json()
        assert state["cycle_number"] == 2 and not events(client, "survey_answer")
        # 30 hours later the window is closed; the template is not approved yet: nothing sent.
        clock.advance(hours=30)
        resolve(client)
        assert len(events(client, "survey_sent")) == 1
        client.put(
            "/v1/templates/csat_survey/es",
            json={
                "name": "csat_survey",
                "language": "es",
                "category": "utility",
                "body": "¿Cómo te atendimos? Responde del 1 al 5.",
                "status": "approved",
            },
            headers=ADMIN,
        ).raise_for_status()
        clock.advance(minutes=1)
        client.post(
            f"/v1/conversations/{conversation_id()}/status", json={"status": "open"}, headers=ADMIN
        ).raise_for_status()
        resolve(client)
        sent = events(client, "survey_sent")
        assert len(sent) == 2
        message = [m for m in events(client, "message") if m["payload"]["template_name"]]
        assert message[0]["payload"]["message_type"] == "template"
        post(client, inbound(clock.now, "4"))
        assert events(client, "survey_answer")[0]["payload"]["score"] == 4


def test_live_queue_shape_and_permissions(tmp_path: Path):
    clock = FakeClock(local("2026-11-23 10:00"))
    with live(tmp_path, clock) as client:
        post(client, inbound(clock.now - dt.timedelta(minutes=7), "precio", wa_id="1"))
        post(client, inbound(clock.now - dt.timedelta(minutes=3), "falla", wa_id="2"))
        post(client, inbound(clock.now, "hola", wa_id="3"))
        client.post(
            f"/v1/conversations/{conversation_id('3')}/messages",
            json={"text": "hola"},
            headers=ADMIN,
        )
        queue = client.get("/v1/queue/live", headers=ADMIN)
        assert queue.status_code == 200
        body = queue.json()
        assert set(body) == {
            "as_of",
            "totals",
            "by_agent",
            "by_team",
            "age_buckets",
            "due_soon",
            "breaches",
            "alerts",
        }
        assert body["totals"] == {"open": 3, "unattended": 2, "pending": 0, "snoozed": 0}
        ana = next(row for row in body["by_agent"] if row["agent_id"] == "ana")
        assert ana == {
            "agent_id": "ana",
            "team_id": "sales",
            "open": 1,
            "unattended": 1,
            "pending": 0,
            "snoozed": 0,
        }
        assert {row["team_id"]: row["open"] for row in body["by_team"]} == {
            "sales": 1,
            "support": 2,
        }
        buckets = {row["bucket"]: row["count"] for row in body["age_buckets"]}
        assert buckets == {"<5m": 1, "5-10m": 1, "10-20m": 0, "20-60m": 0, "1-4h": 0, ">4h": 0}
        assert [b["conversation_id"] for b in body["breaches"]] == [conversation_id("1")]
        assert body["breaches"][0]["overdue_seconds"] == 120
        assert body["due_soon"][0]["seconds_left"] == 120
        assert set(body["due_soon"][0]) == {
            "conversation_id",
            "contact_name",
            "agent_id",
            "team_id",
            "waiting_since",
            "sla_deadline_at",
            "seconds_left",
        }
        token = agent_token(client, "ana")
        denied = client.get("/v1/queue/live", headers={"Authorization": f"Bearer {token}"})
        assert denied.status_code == 403


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"agents": [{"id": "x", "name": "X", "teams": ["t"], "shifts": {"lun": []}}]}, "lun"),
        ({"agents": [{"id": "x", "name": "X", "teams": ["t"], "shifts": {"mon": ["9-8"]}}]}, "9-8"),
        (
            {
                "topics": [
                    {"id": "a", "team": "t", "payloads": ["p"]},
                    {"id": "b", "team": "t", "payloads": ["p"]},
                ]
            },
            "payload 'p'",
        ),
        ({"alert_webhooks": [{"url": "ftp://x", "secret": "0123456789abcdef"}]}, "url"),
        ({"alert_webhooks": [{"url": "http://x", "secret": "short"}]}, "secret"),
        ({"menu": {"enabled": True}}, "menu.enabled"),
        ({"off_hours": {"text": {"es": "hola"}}}, "off_hours.text.en"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, patch: dict, message: str):
    import yaml

    raw = {"teams": [{"id": "t", "name": "T"}], **patch}
    path = tmp_path / "bandeja.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        load_config(path)


def test_shipped_config_loads():
    config = load_config(Path("config/bandeja.yaml"))
    assert isinstance(config, BusinessConfig)
    assert config.menu.enabled and config.off_hours.text.en
