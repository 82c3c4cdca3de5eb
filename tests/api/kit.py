"""Helpers for the API tests: settings, a settable clock, webhook builders, a client wrapper."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any

from served import LiveClient

from inbox_api.settings import Settings
from inbox_api.whatsapp.signature import sign

ADMIN_TOKEN = "test-admin-token-0123456789"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
PHONE_NUMBER_ID = "114477889900112"
# A Wednesday, 10:00 in Mexico City: business hours, so no off-hours auto reply.
T0 = dt.datetime(2026, 11, 25, 16, 0, tzinfo=dt.UTC)
_ids = itertools.count(1)


class Clock:
    """Injected into the app: tests move time instead of sleeping."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        env="test",
        admin_token=ADMIN_TOKEN,
        feed_token=ADMIN_TOKEN,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
        **overrides,
    )


def auth(token: str = ADMIN_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_wamid() -> str:
    return f"wamid.test.{next(_ids):06d}"


def envelope(values: list[dict[str, Any]], entries: int = 1) -> dict[str, Any]:
    """Meta's envelope; `values` are split across `entries` entries, one change each."""
    per_entry = [values[i::entries] for i in range(entries)]
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "109876543210987",
                "changes": [{"field": "messages", "value": value} for value in chunk],
            }
            for chunk in per_entry
        ],
    }


def message_value(
    message: dict[str, Any],
    *,
    wa_id: str | None = "447700900123",
    name: str = "Priya Raman",
    user_id: str | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict[str, Any]:
    contact: dict[str, Any] = {"profile": {"name": name}}
    if wa_id is not None:
        contact["wa_id"] = wa_id
    if user_id is not None:
        contact["user_id"] = user_id
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550142233", "phone_number_id": phone_number_id},
        "contacts": [contact],
        "messages": [message],
    }


def message(
    kind: str = "text",
    obj: Any = None,
    *,
    wamid: str | None = None,
    sender: str | None = "447700900123",
    at: dt.datetime = T0,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": wamid or new_wamid(),
        "timestamp": str(int(at.timestamp())),
        "type": kind,
        **extra,
    }
    if sender is not None:
        body["from"] = sender
    if obj is not None:
        body[kind] = obj
    elif kind == "text":
        body["text"] = {"body": "Hola, ¿cuál es el precio?"}
    return body


def status_value(wamid: str, status: str, at: dt.datetime = T0, **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550142233", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [
            {
                "id": wamid,
                "status": status,
                "timestamp": str(int(at.timestamp())),
                "recipient_id": "447700900123",
                **extra,
            }
        ],
    }


class Api:
    """The HTTP client on the served app plus the few calls every test makes."""

    def __init__(self, client: LiveClient, clock: Clock, data_dir: Path) -> None:
        self.client = client
        self.clock = clock
        self.data_dir = data_dir

    def post_webhook(self, payload: Any, *, raw: bytes | None = None, signed: bool = True):
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signed:
            headers["X-Hub-Signature-256"] = sign(body, APP_SECRET)
        response = self.client.post("/webhooks/whatsapp", content=body, headers=headers)
        if response.status_code == 200:  # acknowledged = journaled; tests read what it applied
            self.applied(response.json()["webhook_id"])
        return response

    def applied(self, webhook_id: int) -> dict[str, Any]:
        """The outcome of an acknowledged delivery, once the writer has applied it."""
        response = self.client.get(
            f"/v1/webhooks/{webhook_id}", params={"wait": 10}, headers=auth()
        )
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "applied", response.text
        return response.json()

    def inbound(self, msg: dict[str, Any] | None = None, **contact: Any) -> dict[str, Any]:
        """Post one inbound message; returns what applying it did (new_messages, duplicates)."""
        response = self.post_webhook(envelope([message_value(msg or message(), **contact)]))
        assert response.status_code == 200, response.text
        return self.applied(response.json()["webhook_id"])

    def events(self, event_type: str | None = None, token: str = ADMIN_TOKEN) -> list[dict]:
        response = self.client.get("/v1/feed/events", params={"limit": 50_000}, headers=auth(token))
        assert response.status_code == 200, response.text
        events = response.json()["events"]
        return [e for e in events if event_type is None or e["event_type"] == event_type]

    def conversation(self, conversation_id: str, token: str = ADMIN_TOKEN) -> dict[str, Any]:
        response = self.client.get(f"/v1/conversations/{conversation_id}", headers=auth(token))
        assert response.status_code == 200, response.text
        return response.json()

    def create_user(self, user_id: str, role: str, teams: list[str]) -> str:
        response = self.client.post(
            "/v1/users",
            json={"id": user_id, "name": user_id.title(), "role": role, "teams": teams},
            headers=auth(),
        )
        assert response.status_code == 201, response.text
        return response.json()["token"]


def conversation_id(wa_id: str = "447700900123") -> str:
    return f"{PHONE_NUMBER_ID}:{wa_id}"
