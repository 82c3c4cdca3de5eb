"""Shared pieces for routing, SLA, survey and web tests: a settable clock, config, webhooks."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from served import LiveClient, served

from inbox_api.app import create_app
from inbox_api.settings import Settings
from inbox_api.whatsapp.signature import sign
from ingest.config import BusinessConfig

MX = ZoneInfo("America/Mexico_City")
APP_SECRET = "test-app-secret"
ADMIN_TOKEN = "test-admin-token-0123456789"
INBOX_ID = "5215550000000"
_ids = itertools.count(1)


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=MX).astimezone(dt.UTC)


class FakeClock:
    """The injected clock: tests move it; nothing sleeps."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def business_config(**overrides: Any) -> BusinessConfig:
    raw: dict[str, Any] = {
        "language": "es",
        "default_team": "support",
        "teams": [{"id": "sales", "name": "Ventas"}, {"id": "support", "name": "Soporte"}],
        "agents": [
            {"id": "ana", "name": "Ana", "teams": ["sales"], "skills": ["sales"], "capacity": 2},
            {"id": "beto", "name": "Beto", "teams": ["sales"], "skills": ["sales"], "capacity": 2},
            {"id": "carla", "name": "Carla", "teams": ["support"], "skills": ["support"]},
            {
                "id": "sofia",
                "name": "Sofía",
                "teams": ["sales", "support"],
                "role": "supervisor",
            },
        ],
        "topics": [
            {
                "id": "sales_lead",
                "team": "sales",
                "keywords": ["precio", "price", "comprar"],
                "payloads": ["menu_sales"],
                "title": {"es": "Ventas", "en": "Sales"},
            },
            {
                "id": "after_sales",
                "team": "support",
                "keywords": ["falla", "broken"],
                "payloads": ["menu_support"],
                "title": {"es": "Soporte", "en": "Support"},
            },
        ],
        "menu": {"enabled": False},
    }
    raw.update(overrides)
    return BusinessConfig.model_validate(raw)


def settings_for(data_dir: Path, **extra: Any) -> Settings:
    return Settings(
        env="test",
        data_dir=data_dir,
        whatsapp_app_secret=APP_SECRET,
        admin_token=ADMIN_TOKEN,
        feed_token=ADMIN_TOKEN,
        sla_tick_seconds=3600,
        **extra,
    )


def inbound(
    at: dt.datetime,
    text: str | None = "hola",
    *,
    wa_id: str = "5215511111111",
    name: str = "Cliente",
    interactive_id: str | None = None,
) -> bytes:
    """A signed-able WhatsApp webhook body with one customer message."""
    message: dict[str, Any] = {
        "from": wa_id,
        "id": f"wamid.test.{next(_ids)}",
        "timestamp": str(int(at.timestamp())),
    }
    if interactive_id:
        message["type"] = "interactive"
        message["interactive"] = {
            "type": "list_reply",
            "list_reply": {"id": interactive_id, "title": text or interactive_id},
        }
    else:
        message["type"] = "text"
        message["text"] = {"body": text}
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "waba",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "1", "phone_number_id": INBOX_ID},
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [message],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body).encode()


def signed(body: bytes) -> dict[str, str]:
    return {"X-Hub-Signature-256": sign(body, APP_SECRET), "Content-Type": "application/json"}


def deliver(client: Any, body: bytes) -> dict[str, Any]:
    """POST a signed webhook and wait until the writer has applied it (a 200 only journals it)."""
    response = client.post("/webhooks/whatsapp", content=body, headers=signed(body))
    assert response.status_code == 200, response.text
    applied = client.get(
        f"/v1/webhooks/{response.json()['webhook_id']}",
        params={"wait": 10},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert applied.status_code == 200 and applied.json()["state"] == "applied", applied.text
    return applied.json()


def conversation_id(wa_id: str = "5215511111111") -> str:
    return f"{INBOX_ID}:{wa_id}"


def events(client: Any, event_type: str | None = None) -> list[dict[str, Any]]:
    response = client.get("/v1/feed/events", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    response.raise_for_status()
    rows = response.json()["events"]
    return [row for row in rows if event_type is None or row["event_type"] == event_type]


def new_app(data_dir: Path, clock: FakeClock, config: BusinessConfig | None = None) -> FastAPI:
    return create_app(settings_for(data_dir), clock=clock, config=config or business_config())


@contextmanager
def live(
    data_dir: Path, clock: FakeClock, config: BusinessConfig | None = None
) -> Iterator[LiveClient]:
    """The real app on a loopback port, with the injected clock, and a client talking HTTP."""
    with served(new_app(data_dir, clock, config)) as client:
        yield client


def agent_token(client: httpx.Client | Any, user_id: str, role: str = "agent") -> str:
    """Give a config user a token through the admin API (same teams and skills as config)."""
    teams = {"ana": ["sales"], "beto": ["sales"], "carla": ["support"]}.get(
        user_id, ["sales", "support"]
    )
    response = client.post(
        "/v1/users",
        json={"id": user_id, "name": user_id, "role": role, "teams": teams, "skills": teams},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    response.raise_for_status()
    return response.json()["token"]
