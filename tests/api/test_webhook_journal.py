"""The webhook journal: a 200 means the raw body is committed; applying it follows, exactly once."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
from served import served

from inbox_api.app import create_app

from .kit import Api, Clock, auth, envelope, make_settings, message, message_value


def test_an_acknowledgement_names_the_journaled_delivery_and_its_outcome(api: Api) -> None:
    response = api.post_webhook(envelope([message_value(message(wamid="wamid.j1"))]))
    assert response.status_code == 200
    ack = response.json()
    assert ack == {
        "status": "accepted",
        "webhook_id": ack["webhook_id"],
        "messages": 1,
        "statuses": 0,
    }
    outcome = api.applied(ack["webhook_id"])
    assert (outcome["new_messages"], outcome["duplicates"], outcome["error"]) == (1, 0, None)
    assert outcome["applied_at"] >= outcome["received_at"]
    assert api.client.get("/health").json()["webhooks_pending"] == 0


def test_a_rejected_delivery_is_reported_with_its_reason(api: Api) -> None:
    response = api.post_webhook(None, raw=b"not json")
    assert response.status_code == 400
    status = api.client.get(f"/v1/webhooks/{response.json()['webhook_id']}", headers=auth())
    assert status.status_code == 200
    assert status.json()["state"] == "rejected"
    assert "malformed JSON" in status.json()["error"]


def test_delivery_status_is_for_supervisors_and_names_unknown_ids(api: Api) -> None:
    agent = api.create_user("ana", "agent", ["sales"])
    assert api.client.get("/v1/webhooks/1", headers=auth(agent)).status_code == 403
    missing = api.client.get("/v1/webhooks/999", headers=auth())
    assert missing.status_code == 404
    assert missing.json()["field"] == "webhook_id"
    assert api.client.get("/v1/webhooks/0", headers=auth()).status_code == 422
    assert api.client.get("/v1/webhooks/1?wait=99", headers=auth()).status_code == 422


def test_a_body_that_fails_to_apply_is_kept_for_replay(api: Api) -> None:
    def broken(tx, conversation, inbound) -> None:
        raise RuntimeError("hook bug")

    api.client.app.state.inbox.on_inbound.append(broken)
    response = api.post_webhook(envelope([message_value(message(wamid="wamid.bug"))]))
    assert response.status_code == 200  # journaled: WhatsApp must not resend it
    outcome = api.applied(response.json()["webhook_id"])
    assert outcome["new_messages"] == 0
    assert "RuntimeError" in outcome["error"]
    assert not [e for e in api.events("message") if e["event_id"] == "msg:wamid.bug"]
    api.client.stop()
    with duckdb.connect(str(api.data_dir / "inbox.duckdb"), read_only=True) as con:
        [(reason, body)] = con.execute("select reason, body from dead_letters").fetchall()
    assert "hook bug" in reason
    assert b"wamid.bug" in body


def _journal_without_applying(data_dir: Path, body: bytes) -> None:
    """What a crash between the journal's commit and the writer's leaves behind."""
    with duckdb.connect(str(data_dir / "inbox.duckdb")) as con:
        next_id = con.execute("select coalesce(max(webhook_id), 0) + 1 from raw_webhooks")
        webhook_id = next_id.fetchall()[0][0]
        con.execute(
            "insert into raw_webhooks values (?, now(), ?, ?, 'accepted')",
            [webhook_id, hashlib.sha256(body).hexdigest(), body],
        )


def test_start_up_applies_what_was_acknowledged_but_not_applied(
    tmp_path: Path, clock: Clock
) -> None:
    with served(create_app(make_settings(tmp_path), clock=clock)) as client:
        Api(client, clock, tmp_path).inbound(message(wamid="wamid.before"))
    body = json.dumps(envelope([message_value(message(wamid="wamid.crash"))])).encode()
    _journal_without_applying(tmp_path, body)

    with served(create_app(make_settings(tmp_path), clock=clock)) as client:
        api = Api(client, clock, tmp_path)
        ids = [e["event_id"] for e in api.events("message")]
        assert ids == ["msg:wamid.before", "msg:wamid.crash"]
        assert api.applied(2)["new_messages"] == 1
    with served(create_app(make_settings(tmp_path), clock=clock)) as client:  # once only
        ids = [e["event_id"] for e in Api(client, clock, tmp_path).events("message")]
        assert ids == ["msg:wamid.before", "msg:wamid.crash"]


def test_a_body_the_journal_cannot_store_is_503_so_whatsapp_retries(api: Api) -> None:
    api.client.app.state.journal._con.close()  # what a lost disk looks like from the journal
    response = api.post_webhook(envelope([message_value(message(wamid="wamid.lost"))]))
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert not [e for e in api.events("message") if e["event_id"] == "msg:wamid.lost"]
