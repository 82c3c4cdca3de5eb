"""WhatsApp webhooks over HTTP: handshake, signature, every message type, statuses, bad input."""

from __future__ import annotations

import datetime as dt

import duckdb

from .kit import (
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    Api,
    auth,
    conversation_id,
    envelope,
    message,
    message_value,
    new_wamid,
    status_value,
)


def _db_rows(api: Api, sql: str) -> list[tuple]:
    """Read the store after the app closed its connection (the lifespan owns the file)."""
    api.client.stop()
    with duckdb.connect(str(api.data_dir / "inbox.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_handshake_echoes_the_challenge_as_plain_text(api: Api) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = api.client.get("/webhooks/whatsapp", params=params)
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


def test_handshake_refuses_a_wrong_token_or_mode(api: Api) -> None:
    wrong_token = {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
    wrong_mode = {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}
    assert api.client.get("/webhooks/whatsapp", params=wrong_token).status_code == 403
    assert api.client.get("/webhooks/whatsapp", params=wrong_mode).status_code == 403


def test_missing_or_wrong_signature_is_401_and_only_audited(api: Api) -> None:
    payload = envelope([message_value(message())])
    assert api.post_webhook(payload, signed=False).status_code == 401
    body = b'{"object": "whatsapp_business_account", "entry": []}'
    response = api.client.post(
        "/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    events = api.events()
    assert not [e for e in events if e["event_type"] == "message"]
    rejected = [e for e in events if e["event_type"] == "audit"]
    assert [e["payload"]["detail"]["reason"] for e in rejected] == ["missing", "mismatch"]
    assert _db_rows(api, "select count(*) from raw_webhooks") == [(0,)]


def test_every_message_type_is_stored(api: Api) -> None:
    context = {"from": "15550142233", "id": "wamid.ours.1"}
    cases = [
        message("text", {"body": "Mi pedido no llegó"}),
        message("image", {"id": "m1", "mime_type": "image/jpeg", "sha256": "x", "caption": "foto"}),
        message(
            "interactive",
            {"type": "button_reply", "button_reply": {"id": "order_refund", "title": "Reembolso"}},
            context=context,
        ),
        message(
            "interactive",
            {"type": "list_reply", "list_reply": {"id": "menu_support", "title": "Soporte"}},
            context=context,
        ),
        message("button", {"payload": "confirm_yes", "text": "Sí"}, context=context),
        message("location", {"latitude": 19.4, "longitude": -99.1, "name": "Oficina"}),
        message("contacts", [{"name": {"formatted_name": "Ana"}, "phones": [{"wa_id": "5215"}]}]),
        message("order", {"catalog_id": "c1", "product_items": [], "text": "dos piezas"}),
        message("system", {"body": "changed number", "type": "user_changed_number"}),
        message("request_welcome"),
        message(
            "unsupported",
            {"type": "poll_creation"},
            errors=[{"code": 131051, "title": "Message type unknown"}],
        ),
        message("hologram", {"shape": "cube"}),
    ]
    for case in cases:
        assert api.inbound(case)["new_messages"] == 1
    stored = {e["payload"]["message_id"]: e["payload"] for e in api.events("message")}
    for case in cases:
        assert stored[case["id"]]["message_type"] == case["type"]
    by_type = {p["message_type"]: p for p in stored.values() if p["direction"] == "inbound"}
    assert by_type["text"]["body"] == "Mi pedido no llegó"
    assert by_type["image"]["body"] == "foto"
    assert by_type["button"]["interactive_id"] == "confirm_yes"
    assert by_type["location"]["body"] == "Oficina"
    assert by_type["order"]["body"] == "dos piezas"
    assert stored[cases[2]["id"]]["interactive_id"] == "order_refund"
    assert stored[cases[2]["id"]]["reply_to_message_id"] == "wamid.ours.1"
    assert stored[cases[3]["id"]]["interactive_id"] == "menu_support"


def test_a_reaction_never_opens_a_cycle(api: Api) -> None:
    reaction = message("reaction", {"message_id": "wamid.ours.9", "emoji": "👍"})
    api.inbound(reaction)
    stored = api.events("message")
    assert stored[0]["payload"]["reply_to_message_id"] == "wamid.ours.9"
    conversation = api.client.get(f"/v1/conversations/{conversation_id()}", headers=auth()).json()
    assert conversation["cycle_number"] == 0
    assert conversation["status"] == "resolved"


def test_batched_payload_stores_every_entry_change_message_and_status(api: Api) -> None:
    values = [
        message_value(message(), wa_id="5215500000001", name="Uno"),
        message_value(message(), wa_id="5215500000002", name="Dos"),
        {
            **message_value(message(), wa_id="5215500000003", name="Tres"),
            "messages": [
                message(sender="5215500000003"),
                message(sender="5215500000003"),
            ],
        },
        status_value("wamid.unknown.1", "delivered"),
    ]
    values[0]["messages"][0]["from"] = "5215500000001"
    values[1]["messages"][0]["from"] = "5215500000002"
    response = api.post_webhook(envelope(values, entries=2))
    assert response.status_code == 200
    ack = response.json()
    assert (ack["status"], ack["messages"], ack["statuses"]) == ("accepted", 4, 1)
    applied = api.applied(ack["webhook_id"])
    assert (applied["new_messages"], applied["duplicates"], applied["statuses"]) == (4, 0, 1)
    contacts = {e["contact_id"] for e in api.events("message")}
    assert contacts == {"5215500000001", "5215500000002", "5215500000003"}


def test_bsuid_contact_without_wa_id(api: Api) -> None:
    bsuid = "US.13491208655302741918"
    msg = message(sender=None, from_user_id=bsuid)
    api.inbound(msg, wa_id=None, user_id=bsuid, name="Sin teléfono")
    [event] = api.events("message")
    assert event["contact_id"] == bsuid
    [contact] = api.events("contact")
    assert contact["payload"]["bsuid"] == bsuid
    assert contact["payload"]["wa_id"] is None
    assert event["conversation_id"] == f"{PHONE_NUMBER_ID}:{bsuid}"


def test_bsuid_is_the_key_even_when_wa_id_is_present(api: Api) -> None:
    api.inbound(user_id="US.1", wa_id="447700900123")
    [contact] = api.events("contact")
    assert contact["contact_id"] == "US.1"
    assert contact["payload"]["wa_id"] == "447700900123"


def test_a_redelivered_message_is_stored_once_and_answered_200(api: Api) -> None:
    msg = message(wamid="wamid.same")
    first = api.inbound(msg)
    again = api.inbound(msg)
    assert (first["new_messages"], first["duplicates"]) == (1, 0)
    assert (again["new_messages"], again["duplicates"]) == (0, 1)
    assert len([e for e in api.events("message") if e["event_id"] == "msg:wamid.same"]) == 1


def _send_reply(api: Api) -> str:
    api.inbound()
    response = api.client.post(
        f"/v1/conversations/{conversation_id()}/messages", json={"text": "hola"}, headers=auth()
    )
    assert response.status_code == 201, response.text
    return response.json()["message_id"]


def test_statuses_never_move_backwards_and_failures_are_recorded(api: Api) -> None:
    # A Cloud API send has no statuses yet; the sandbox reports them at once, so use a fresh id.
    api.inbound()
    wamid = new_wamid()
    for status in ("read", "delivered", "sent"):
        api.post_webhook(envelope([status_value(wamid, status)]))
    # Unknown so far: parked as orphans, applied once the message is known (below).
    failed = new_wamid()
    failure = {
        "errors": [{"code": 131047, "title": "Re-engagement message", "message": "24 h passed"}]
    }
    api.post_webhook(envelope([status_value(failed, "failed", **failure)]))
    assert not api.events("message_status")
    sandbox = _send_reply(api)
    statuses = [e["payload"] for e in api.events("message_status")]
    assert [s["status"] for s in statuses if s["message_id"] == sandbox] == [
        "sent",
        "delivered",
        "read",
    ]
    # Later, a late `delivered` for the read message changes nothing.
    api.post_webhook(envelope([status_value(sandbox, "delivered")]))
    assert (
        len([s for s in api.events("message_status") if s["payload"]["message_id"] == sandbox]) == 3
    )
    rows = _db_rows(
        api,
        f"select status, failed from message_state where message_id = '{sandbox}'",
    )
    assert rows == [("read", False)]


def test_failed_status_with_131047_is_recorded(api: Api) -> None:
    sandbox = _send_reply(api)
    failure = {
        "errors": [{"code": 131047, "title": "Re-engagement message", "message": "24 h passed"}]
    }
    api.post_webhook(envelope([status_value(sandbox, "failed", **failure)]))
    [failed] = [e for e in api.events("message_status") if e["payload"]["status"] == "failed"]
    assert failed["payload"]["error_code"] == "131047"
    assert failed["payload"]["error_title"] == "Re-engagement message"


def test_a_status_for_an_unknown_message_is_parked_not_dropped(api: Api) -> None:
    api.post_webhook(envelope([status_value("wamid.later", "read")]))
    assert not api.events("message_status")
    rows = _db_rows(api, "select status from orphan_statuses where message_id = 'wamid.later'")
    assert rows == [("read",)]


def test_malformed_json_is_400_and_dead_lettered(api: Api) -> None:
    response = api.post_webhook(None, raw=b'{"object": "whatsapp_business_account", ')
    assert response.status_code == 400
    assert "malformed JSON" in response.json()["detail"]
    rows = _db_rows(api, "select reason, body from dead_letters")
    assert len(rows) == 1
    assert rows[0][1] == b'{"object": "whatsapp_business_account", '


def test_json_that_is_not_a_webhook_is_400_and_dead_lettered(api: Api) -> None:
    response = api.post_webhook({"object": "page", "entry": []})
    assert response.status_code == 400
    assert "object" in response.json()["detail"]
    response = api.post_webhook(
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages"}]}]}
    )
    assert response.status_code == 400
    assert "entry[0].changes[0].value" in response.json()["detail"]
    assert len(_db_rows(api, "select * from dead_letters")) == 2


def test_a_body_over_3_mb_is_413(api: Api) -> None:
    body = b'{"object": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = api.post_webhook(None, raw=body)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_care_cycles_open_as_metrics_section_2_says(api: Api) -> None:
    cid = conversation_id()
    api.inbound()
    first = api.conversation(cid)
    assert (first["status"], first["cycle_number"]) == ("open", 1)
    api.clock.advance(minutes=1)
    api.inbound(message(at=api.clock.now))
    assert api.conversation(cid)["cycle_number"] == 1  # a second message: same cycle
    resolve = {"status": "resolved"}
    assert (
        api.client.post(f"/v1/conversations/{cid}/status", json=resolve, headers=auth()).status_code
        == 200
    )
    api.clock.advance(minutes=5)
    api.inbound(message(at=api.clock.now))
    second = api.conversation(cid)
    assert (second["status"], second["cycle_number"]) == ("open", 2)
    until = api.clock.now + dt.timedelta(days=2)
    snooze = {"status": "snoozed", "snoozed_until": until.isoformat()}
    assert (
        api.client.post(f"/v1/conversations/{cid}/status", json=snooze, headers=auth()).status_code
        == 200
    )
    assert api.conversation(cid)["status"] == "snoozed"
    api.inbound(message(at=api.clock.now))
    woken = api.conversation(cid)
    assert (woken["status"], woken["cycle_number"]) == ("open", 2)
    changes = [e["payload"] for e in api.events("status_change")]
    assert [c["previous_status"] for c in changes if c["status"] == "open"][-1] == "snoozed"
