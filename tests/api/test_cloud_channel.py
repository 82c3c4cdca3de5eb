"""The Cloud API sender against a local HTTP server on loopback that speaks Meta's format."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from served import served

from inbox_api.app import create_app

from .kit import (
    PHONE_NUMBER_ID,
    Api,
    Clock,
    auth,
    conversation_id,
    envelope,
    make_settings,
    status_value,
)

ACCESS_TOKEN = "meta-system-user-token"


class FakeGraph:
    """`POST /v24.0/{phone_number_id}/messages`: records requests, answers what is queued."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.replies: list[tuple[int, dict[str, Any]]] = []
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                graph.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "json": json.loads(body),
                    }
                )
                status, reply = graph.replies.pop(0)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v24.0"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def accept(self, wamid: str) -> None:
        self.replies.append(
            (
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": "+447700900123", "wa_id": "447700900123"}],
                    "messages": [{"id": wamid}],
                },
            )
        )

    def refuse(self, status: int, code: int, message: str) -> None:
        self.replies.append(
            (
                status,
                {
                    "error": {
                        "message": message,
                        "type": "OAuthException",
                        "code": code,
                        "error_data": {"messaging_product": "whatsapp", "details": message},
                        "fbtrace_id": "AbCdEf",
                    }
                },
            )
        )


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def cloud_api(tmp_path: Path, clock: Clock, graph: FakeGraph) -> Iterator[Api]:
    settings = make_settings(
        tmp_path,
        channel="cloud",
        whatsapp_api_base=graph.url,
        whatsapp_access_token=ACCESS_TOKEN,
    )
    with served(create_app(settings, clock=clock)) as client:
        yield Api(client, clock, tmp_path)


def _outbound(api: Api) -> list[dict[str, Any]]:
    return [e for e in api.events("message") if e["payload"]["direction"] == "outbound"]


def test_a_reply_is_sent_in_metas_request_shape(cloud_api: Api, graph: FakeGraph) -> None:
    cloud_api.inbound()
    graph.accept("wamid.cloud.1")
    response = cloud_api.client.post(
        f"/v1/conversations/{conversation_id()}/messages",
        json={"text": "Su pedido sale hoy", "reply_to": "wamid.in.1"},
        headers=auth(),
    )
    assert response.status_code == 201, response.text
    assert response.json()["message_id"] == "wamid.cloud.1"
    [request] = graph.requests
    assert request["path"] == f"/v24.0/{PHONE_NUMBER_ID}/messages"
    assert request["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request["json"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+447700900123",
        "type": "text",
        "text": {"preview_url": False, "body": "Su pedido sale hoy"},
        "context": {"message_id": "wamid.in.1"},
    }
    [event] = _outbound(cloud_api)
    assert event["event_id"] == "msg:wamid.cloud.1"
    # Accepted is not delivered: no status until Meta's webhook says so.
    assert not cloud_api.events("message_status")


def test_a_meta_error_is_a_clear_502_and_nothing_is_stored(
    cloud_api: Api, graph: FakeGraph
) -> None:
    cloud_api.inbound()
    graph.refuse(400, 131047, "Re-engagement message")
    response = cloud_api.client.post(
        f"/v1/conversations/{conversation_id()}/messages", json={"text": "hola"}, headers=auth()
    )
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == "channel_error"
    assert "131047" in body["detail"]
    assert "Re-engagement message" in body["detail"]
    graph.refuse(500, 1, "An unknown error occurred")
    response = cloud_api.client.post(
        f"/v1/conversations/{conversation_id()}/messages", json={"text": "hola"}, headers=auth()
    )
    assert response.status_code == 502
    assert not _outbound(cloud_api)


def test_a_status_that_beats_its_send_attaches_when_the_send_is_recorded(
    cloud_api: Api, graph: FakeGraph
) -> None:
    cloud_api.inbound()
    # Meta's `delivered` can arrive before our send call returns and is recorded.
    cloud_api.post_webhook(envelope([status_value("wamid.cloud.fast", "delivered")]))
    assert not cloud_api.events("message_status")
    graph.accept("wamid.cloud.fast")
    response = cloud_api.client.post(
        f"/v1/conversations/{conversation_id()}/messages", json={"text": "hola"}, headers=auth()
    )
    assert response.status_code == 201, response.text
    [status] = cloud_api.events("message_status")
    assert status["event_id"] == "st:wamid.cloud.fast:delivered"
    assert status["conversation_id"] == conversation_id()
