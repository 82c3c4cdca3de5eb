"""The change feed (JSON, Parquet, cursor paging, roles), history import, and token-free logs."""

from __future__ import annotations

import io
import json
import logging

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from inbox_api.routes.feed import _in_seq_order
from inbox_api.store.writer import EVENT_SCHEMA

from .kit import ADMIN_TOKEN, PHONE_NUMBER_ID, T0, Api, auth, conversation_id, message

PARQUET = "application/vnd.apache.parquet"
NDJSON = "application/x-ndjson"


def _history(n: int, prefix: str = "hist") -> list[dict]:
    rows = []
    for i in range(n):
        wa_id = f"5215599{i % 7:06d}"
        rows.append(
            {
                "event_id": f"{prefix}-{i}",
                "event_type": "message",
                "occurred_at": (T0.replace(year=2025)).isoformat(),
                "inbox_id": PHONE_NUMBER_ID,
                "conversation_id": conversation_id(wa_id),
                "contact_id": wa_id,
                "actor_kind": "customer",
                "actor_id": None,
                "payload": {
                    "message_id": f"wamid.{prefix}.{i}",
                    "direction": "inbound",
                    "sender_kind": "customer",
                    "message_type": "text",
                    "body": f"mensaje {i}",
                },
            }
        )
    return rows


def _ndjson(rows: list) -> bytes:
    return "\n".join(json.dumps(row) for row in rows).encode()


def _import(api: Api, body: bytes, content_type: str = NDJSON):
    return api.client.post(
        "/v1/import/events", content=body, headers={**auth(), "Content-Type": content_type}
    )


def test_feed_pages_in_stable_order_in_json_and_parquet(api: Api) -> None:
    assert _import(api, _ndjson(_history(25))).status_code == 200
    for _ in range(3):
        api.inbound(message())
    everything = api.events()
    seqs = [e["seq"] for e in everything]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    pages, after = [], 0
    while True:
        response = api.client.get(
            "/v1/feed/events", params={"after": after, "limit": 7}, headers=auth()
        )
        body = response.json()
        pages.extend(body["events"])
        assert response.headers["X-Next-After"] == str(body["next_after"])
        after = body["next_after"]
        if not body["has_more"]:
            break
    assert [e["seq"] for e in pages] == seqs
    parquet_seqs, after = [], 0
    while True:
        response = api.client.get(
            "/v1/feed/events",
            params={"after": after, "limit": 10},
            headers={**auth(), "Accept": PARQUET},
        )
        assert response.headers["content-type"] == PARQUET
        table = pq.read_table(io.BytesIO(response.content))
        assert table.column_names[:3] == ["seq", "event_id", "event_type"]
        parquet_seqs.extend(table.column("seq").to_pylist())
        after = int(response.headers["X-Next-After"])
        if response.headers["X-Has-More"] != "true":
            break
    assert parquet_seqs == seqs
    # Paging again from a cursor gives the same rows: the order is stable.
    again = api.client.get("/v1/feed/events", params={"after": seqs[9]}, headers=auth()).json()
    assert [e["seq"] for e in again["events"]] == seqs[10:]


def test_feed_pages_reach_500_000_events_in_parquet_and_50_000_in_json(api: Api) -> None:
    parquet = {**auth(), "Accept": PARQUET}
    big = api.client.get("/v1/feed/events", params={"limit": 500_000}, headers=parquet)
    assert big.status_code == 200 and big.headers["X-Has-More"] == "false"
    assert pq.read_table(io.BytesIO(big.content)).schema.equals(EVENT_SCHEMA)
    too_big = api.client.get("/v1/feed/events", params={"limit": 500_001}, headers=parquet)
    assert too_big.status_code == 422 and too_big.json()["field"] == "query.limit"
    json_page = api.client.get("/v1/feed/events", params={"limit": 50_001}, headers=auth())
    assert json_page.status_code == 422
    assert json_page.json()["field"] == "query.limit"
    assert "500000 with Accept: application/vnd.apache.parquet" in json_page.json()["detail"]


def test_rows_out_of_seq_order_are_sorted_and_ordered_ones_kept_as_they_are() -> None:
    ordered = pa.table({"seq": [1, 2, 3, 5], "event_id": ["a", "b", "c", "e"]})
    assert _in_seq_order(ordered) is ordered
    shuffled = pa.concat_tables([ordered.slice(2), ordered.slice(0, 2)])
    assert _in_seq_order(shuffled).to_pydict() == ordered.to_pydict()


def test_feed_needs_an_analyst_or_admin_token(api: Api) -> None:
    assert api.client.get("/v1/feed/events").status_code == 401
    assert api.client.get("/v1/feed/events", headers=auth("bdj_nope")).status_code == 401
    agent = api.create_user("agent.x", "agent", ["support"])
    assert api.client.get("/v1/feed/events", headers=auth(agent)).status_code == 403
    bad = api.client.get("/v1/feed/events", params={"limit": 0}, headers=auth())
    assert bad.status_code == 422
    assert bad.json()["field"] == "query.limit"


def test_import_ndjson_and_parquet_idempotently(api: Api) -> None:
    rows = _history(40)
    first = _import(api, _ndjson(rows))
    assert first.json() == {"accepted": 40, "duplicates": 0}
    assert _import(api, _ndjson(rows)).json() == {"accepted": 0, "duplicates": 40}
    more = _history(10, prefix="pq")
    table = pa.Table.from_pylist(
        [{**row, "payload": json.dumps(row["payload"])} for row in more + rows[:5]]
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    response = _import(api, buffer.getvalue(), PARQUET)
    assert response.json() == {"accepted": 10, "duplicates": 5}
    assert len(api.events("message")) == 50
    # Imported history shows in the inbox: conversations exist for its contacts.
    listed = api.client.get("/v1/conversations", params={"limit": 50}, headers=auth()).json()
    assert len(listed["items"]) == 7


def test_a_bad_batch_is_rejected_whole_naming_each_bad_row(api: Api) -> None:
    rows = _history(5)
    rows[1]["event_type"] = "teleport"
    rows[3]["occurred_at"] = "yesterday"
    rows[4]["payload"]["direction"] = "sideways"
    response = _import(api, _ndjson(rows) + b"\n{not json")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors == [{"row": 6, "field": "(line)", "message": errors[0]["message"]}]
    response = _import(api, _ndjson(rows))
    assert response.status_code == 422
    named = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert named == {(2, "event_type"), (4, "occurred_at"), (5, "payload.direction")}
    assert not api.events("message")


def test_import_refuses_other_content_types(api: Api) -> None:
    response = _import(api, b"a,b\n1,2", "text/csv")
    assert response.status_code == 415
    assert "application/x-ndjson" in response.json()["detail"]
    assert _import(api, b"not parquet", PARQUET).status_code == 422


def test_tokens_never_reach_the_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    agent = api.create_user("agent.x", "agent", ["support"])
    api.inbound()
    for token in (ADMIN_TOKEN, agent, "bdj_wrong_token_value"):
        api.client.get("/v1/conversations", headers=auth(token))
        api.client.get("/v1/feed/events", headers=auth(token))
        api.client.post("/v1/users/agent.x/token", headers=auth(token))
    text = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert caplog.records  # something was logged, so the check means something
    for token in (ADMIN_TOKEN, agent, "bdj_wrong_token_value"):
        assert token not in text
