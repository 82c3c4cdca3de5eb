"""Outbound channels: WhatsApp Cloud API (httpx) and the sandbox (the default)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any, Protocol

import httpx

from inbox_api.errors import ChannelFailed


@dataclasses.dataclass(slots=True)
class SendResult:
    message_id: str
    # Statuses the channel already knows (the sandbox delivers and reads at once).
    statuses: tuple[str, ...] = ()


class Channel(Protocol):
    name: str

    async def send(self, inbox_id: str, to: str, message: dict[str, Any]) -> SendResult: ...

    async def aclose(self) -> None: ...


def text_message(body: str, reply_to: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "text", "text": {"preview_url": False, "body": body}}
    if reply_to:
        message["context"] = {"message_id": reply_to}
    return message


def template_message(name: str, language: str, variables: list[str]) -> dict[str, Any]:
    components = []
    if variables:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": v} for v in variables]}
        )
    return {
        "type": "template",
        "template": {"name": name, "language": {"code": language}, "components": components},
    }


def interactive_buttons(body: str, buttons: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": bid, "title": title}}
                    for bid, title in buttons
                ]
            },
        },
    }


class SandboxChannel:
    """Records the message and reports it sent, delivered and read: demos and tests."""

    name = "sandbox"

    async def send(self, inbox_id: str, to: str, message: dict[str, Any]) -> SendResult:
        return SendResult(f"wamid.sandbox.{uuid.uuid4().hex}", ("sent", "delivered", "read"))

    async def aclose(self) -> None:
        return None


class CloudApiChannel:
    """`POST {base}/{phone_number_id}/messages`; an accepted send returns the wamid."""

    name = "cloud"

    def __init__(self, base_url: str, access_token: str, timeout: float = 10.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=timeout,
        )

    async def send(self, inbox_id: str, to: str, message: dict[str, Any]) -> SendResult:
        recipient = to if to.startswith("+") else f"+{to}"
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient}
        body.update(message)
        try:
            response = await self._client.post(f"/{inbox_id}/messages", json=body)
        except httpx.HTTPError as exc:
            raise ChannelFailed(f"WhatsApp API unreachable: {exc.__class__.__name__}") from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code != 200:
            error = data.get("error", {}) if isinstance(data, dict) else {}
            raise ChannelFailed(
                f"WhatsApp API refused the message: {error.get('code', response.status_code)} "
                f"{error.get('message', response.reason_phrase)}"
            )
        try:
            return SendResult(data["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as exc:
            raise ChannelFailed("WhatsApp API answered 200 without a message id") from exc

    async def aclose(self) -> None:
        await self._client.aclose()
