"""The agents' REST API: actions, the 24 h window, roles, hashed tokens and the audit trail."""

from __future__ import annotations

import datetime as dt

from .kit import ADMIN_TOKEN, Api, auth, conversation_id, message

CID = conversation_id()


def _post(api: Api, path: str, body: dict, token: str = ADMIN_TOKEN):
    return api.client.post(f"/v1/conversations/{CID}{path}", json=body, headers=auth(token))


def _unassigned(api: Api) -> None:
    """A conversation in the support queue with nobody on it (the router may have assigned it)."""
    api.inbound(message("text", {"body": "Hola, tengo una duda"}))
    response = _post(api, "/assignment", {"team_id": "support", "unassign": True})
    assert response.status_code == 200, response.text
    assert response.json()["assignee_id"] is None


def test_list_filters_and_read(api: Api) -> None:
    _unassigned(api)
    assert _post(api, "/tags", {"tag": "vip"}).status_code == 201
    listed = api.client.get("/v1/conversations", headers=auth()).json()["items"]
    assert [c["conversation_id"] for c in listed] == [CID]
    for params, expected in [
        ({"status": "open"}, 1),
        ({"status": "resolved"}, 0),
        ({"assignee": "none"}, 1),
        ({"assignee": "carla"}, 0),
        ({"team": "support"}, 1),
        ({"team": "sales"}, 0),
        ({"tag": "vip"}, 1),
        ({"tag": "other"}, 0),
        ({"waiting": "true"}, 1),
        ({"waiting": "false"}, 0),
    ]:
        items = api.client.get("/v1/conversations", params=params, headers=auth()).json()
        assert len(items["items"]) == expected, params
    detail = api.conversation(CID)
    assert detail["window_open"] is True
    assert {e["type"] for e in detail["timeline"]} >= {"message", "tag", "assignment"}
    bad = api.client.get("/v1/conversations", params={"status": "nope"}, headers=auth())
    assert bad.status_code == 422
    assert bad.json()["field"] == "query.status"
    assert api.client.get("/v1/conversations/nope", headers=auth()).status_code == 404


def test_reply_note_assign_status_tags(api: Api) -> None:
    _unassigned(api)
    reply = _post(api, "/messages", {"text": "Claro, ¿qué necesita?"})
    assert reply.status_code == 201
    assert api.conversation(CID)["waiting_since"] is None
    assert _post(api, "/notes", {"body": "cliente frecuente"}).status_code == 201
    assigned = _post(api, "/assignment", {"agent_id": "diego"})
    assert assigned.json()["assignee_id"] == "diego"
    transfer = _post(api, "/assignment", {"team_id": "billing"})
    assert transfer.json()["team_id"] == "billing"
    assert _post(api, "/assignment", {"agent_id": "ghost"}).status_code == 404
    for status in ("pending", "resolved"):
        assert _post(api, "/status", {"status": status}).json()["status"] == status
    assert _post(api, "/status", {"status": "resolved"}).status_code == 409
    reopened = _post(api, "/status", {"status": "reopen"})
    assert reopened.json()["status"] == "open"
    assert _post(api, "/tags", {"tag": "vip"}).status_code == 201
    assert _post(api, "/tags", {"tag": "vip"}).status_code == 409
    removed = api.client.delete(f"/v1/conversations/{CID}/tags/vip", headers=auth())
    assert removed.json()["tags"] == []
    timeline = api.conversation(CID)["timeline"]
    notes = [e for e in timeline if e["type"] == "note"]
    assert notes[0]["body"] == "cliente frecuente"
    actions = [e["payload"]["action"] for e in api.events("audit")]
    for action in (
        "message.sent",
        "note.added",
        "conversation.manual",
        "conversation.transfer",
        "conversation.pending",
        "conversation.resolved",
        "conversation.open",
        "tag.added",
        "tag.removed",
    ):
        assert action in actions, action


def test_lead_once_per_cycle_conversion_and_surveys(api: Api) -> None:
    _unassigned(api)
    assert _post(api, "/lead", {"note": "quiere 3"}).status_code == 201
    assert _post(api, "/lead", {}).status_code == 409
    sale = {"kind": "sale", "amount": 1200.5, "currency": "MXN", "external_id": "order-1"}
    first = _post(api, "/conversions", sale)
    assert first.status_code == 201
    assert _post(api, "/conversions", sale).json()["duplicate"] is True
    assert _post(api, "/conversions", {"kind": "refund"}).status_code == 422
    assert _post(api, "/conversions", {"kind": "sale", "amount": -1}).status_code == 422
    assert _post(api, "/surveys", {"kind": "csat", "score": 5}).status_code == 201
    assert _post(api, "/surveys", {"kind": "csat", "score": 4}).status_code == 409
    assert _post(api, "/surveys", {"kind": "nps", "score": 11}).status_code == 422
    assert _post(api, "/surveys", {"kind": "nps", "score": 0}).status_code == 201
    assert len(api.events("conversion")) == 1
    assert {e["payload"]["kind"] for e in api.events("survey_answer")} == {"csat", "nps"}


def test_csat_out_of_range_is_refused(api: Api) -> None:
    _unassigned(api)
    response = _post(api, "/surveys", {"kind": "csat", "score": 0})
    assert response.status_code == 422
    assert response.json()["field"] == "score"


def test_external_conversion_is_idempotent_by_external_id(api: Api) -> None:
    api.inbound()
    body = {"kind": "appointment", "contact": {"phone": "+44 7700 900123"}, "external_id": "crm-7"}
    first = api.client.post("/v1/conversions", json=body, headers=auth())
    again = api.client.post("/v1/conversions", json=body, headers=auth())
    assert first.status_code == 201, first.text
    assert first.json()["duplicate"] is False
    assert again.json()["duplicate"] is True
    assert len(api.events("conversion")) == 1
    unknown = {**body, "contact": {"phone": "+1 555 000"}}
    assert api.client.post("/v1/conversions", json=unknown, headers=auth()).status_code == 404


def test_the_24_hour_window(api: Api) -> None:
    _unassigned(api)
    put = api.client.put(
        "/v1/templates/order_update/es",
        json={
            "name": "order_update",
            "language": "es",
            "category": "utility",
            "body": "Su pedido {{1}} va en camino",
            "status": "approved",
        },
        headers=auth(),
    )
    assert put.status_code == 200, put.text
    api.client.put(
        "/v1/templates/promo/es",
        json={"name": "promo", "language": "es", "category": "marketing", "body": "Oferta"},
        headers=auth(),
    )
    api.clock.advance(hours=23, minutes=59)
    assert _post(api, "/messages", {"text": "aún a tiempo"}).status_code == 201
    api.clock.advance(minutes=2)
    refused = _post(api, "/messages", {"text": "tarde"})
    assert refused.status_code == 409
    assert "24-hour" in refused.json()["detail"]
    template = {"template": {"name": "order_update", "language": "es", "variables": ["A-5521"]}}
    assert _post(api, "/messages", template).status_code == 201
    pending = _post(api, "/messages", {"template": {"name": "promo", "language": "es"}})
    assert pending.status_code == 409
    assert "pending" in pending.json()["detail"]
    # A new customer message reopens the window.
    api.inbound(message(at=api.clock.now))
    assert _post(api, "/messages", {"text": "gracias por escribir"}).status_code == 201


def test_roles(api: Api) -> None:
    _unassigned(api)  # support team, nobody assigned
    support = api.create_user("agent.support", "agent", ["support"])
    sales = api.create_user("agent.sales", "agent", ["sales"])
    supervisor_sales = api.create_user("sup.sales", "supervisor", ["sales"])
    supervisor_support = api.create_user("sup.support", "supervisor", ["support"])
    analyst = api.create_user("analyst", "analyst", [])
    # Unassigned in the agent's team: allowed; another team's: forbidden.
    assert _post(api, "/notes", {"body": "mine"}, support).status_code == 201
    assert _post(api, "/notes", {"body": "not mine"}, sales).status_code == 403
    assert api.client.get(f"/v1/conversations/{CID}", headers=auth(sales)).status_code == 403
    assert api.client.get("/v1/conversations", headers=auth(sales)).json()["items"] == []
    # Agents take a conversation themselves, not push it onto a colleague.
    assert _post(api, "/assignment", {"agent_id": "diego"}, support).status_code == 403
    assert _post(api, "/assignment", {"agent_id": "agent.support"}, support).status_code == 200
    # Assigned to someone else: another agent of the same team is out.
    assert _post(api, "/assignment", {"agent_id": "diego"}).status_code == 200
    assert _post(api, "/notes", {"body": "x"}, support).status_code == 403
    assert _post(api, "/notes", {"body": "sup"}, supervisor_support).status_code == 201
    assert _post(api, "/notes", {"body": "sup"}, supervisor_sales).status_code == 403
    # Analysts read the feed only.
    assert api.client.get("/v1/conversations", headers=auth(analyst)).status_code == 403
    assert api.client.get("/v1/feed/events", headers=auth(analyst)).status_code == 200
    assert api.client.get("/v1/feed/events", headers=auth(support)).status_code == 403
    # Audit: supervisors and admins only.
    assert api.client.get("/v1/audit", headers=auth(supervisor_sales)).status_code == 200
    assert api.client.get("/v1/audit", headers=auth(support)).status_code == 403
    assert api.client.get("/v1/audit", headers=auth("bdj_wrong")).status_code == 401
    assert api.client.get("/v1/audit").status_code == 401
    # Only admins create users.
    made = api.client.post(
        "/v1/users",
        json={"id": "x", "name": "X", "role": "admin"},
        headers=auth(supervisor_support),
    )
    assert made.status_code == 403


def test_audit_names_who_what_when_and_where(api: Api) -> None:
    _unassigned(api)
    token = api.create_user("agent.support", "agent", ["support"])
    _post(api, "/notes", {"body": "hola"}, token)
    items = api.client.get("/v1/audit", params={"user_id": "agent.support"}, headers=auth()).json()[
        "items"
    ]
    [note] = [i for i in items if i["action"] == "note.added"]
    assert note["conversation_id"] == CID
    assert note["method"] == "POST"
    assert note["path"] == f"/v1/conversations/{CID}/notes"
    assert note["client_ip"]
    assert dt.datetime.fromisoformat(note["at"].replace("Z", "+00:00")) == api.clock.now
    everything = api.client.get("/v1/audit", headers=auth()).json()["items"]
    assert {"user.created", "conversation.transfer", "note.added"} <= {
        i["action"] for i in everything
    }


def test_tokens_are_stored_hashed(api: Api) -> None:
    token = api.create_user("agent.support", "agent", ["support"])
    assert api.client.get("/v1/me", headers=auth(token)).json()["id"] == "agent.support"
    rotated = api.client.post("/v1/users/agent.support/token", headers=auth()).json()["token"]
    assert api.client.get("/v1/me", headers=auth(token)).status_code == 401
    assert api.client.get("/v1/me", headers=auth(rotated)).status_code == 200
    api.client.stop()
    raw = b"".join(path.read_bytes() for path in api.data_dir.glob("inbox.duckdb*"))
    for secret in (token, rotated, ADMIN_TOKEN):
        assert secret.encode() not in raw
