"""WhatsApp Cloud API webhooks: the verification handshake and signed deliveries."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from inbox_api.deps import SettingsDep
from inbox_api.domain import Inbox
from inbox_api.settings import Settings
from inbox_api.store.state import conversation_id_for
from inbox_api.store.writer import Hints
from inbox_api.whatsapp.parse import InboundMessage, PayloadError, StatusUpdate, parse_webhook
from inbox_api.whatsapp.signature import verify

router = APIRouter(tags=["webhooks"])


@router.get(
    "/webhooks/whatsapp",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        403: {
            "description": "Wrong hub.mode or hub.verify_token",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
    },
)
def verify_subscription(
    settings: SettingsDep,
    mode: Annotated[str, Query(alias="hub.mode", max_length=64)],
    verify_token: Annotated[str, Query(alias="hub.verify_token", max_length=512)],
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=512)],
) -> PlainTextResponse:
    expected = settings.whatsapp_verify_token.get_secret_value()
    if mode != "subscribe" or verify_token != expected:
        return PlainTextResponse("verification failed", status_code=403)
    return PlainTextResponse(challenge)


WEBHOOK_PATH = "/webhooks/whatsapp"


async def handle_delivery(
    inbox: Inbox, settings: Settings, body: bytes, signature: str | None, client_ip: str | None
) -> tuple[int, dict[str, Any]]:
    """Verify, store, acknowledge: (status, JSON body). Shared by the route and the fast path."""
    if not verify(body, signature, settings.whatsapp_app_secret.get_secret_value()):

        def audit_rejection(tx) -> None:
            tx.event(
                "audit",
                payload={
                    "action": "webhook.rejected",
                    "method": "POST",
                    "path": WEBHOOK_PATH,
                    "client_ip": client_ip,
                    "status_code": 401,
                    "detail": {"reason": "missing" if not signature else "mismatch"},
                },
                actor_kind="system",
            )

        await inbox.store.run(audit_rejection)
        return 401, {"detail": "missing or invalid X-Hub-Signature-256", "code": "bad_signature"}
    outcome = await inbox.store.run(inbox.webhook_command(body), _hints(body))
    if not outcome.accepted:
        return 400, {
            "detail": outcome.error,
            "code": "bad_payload",
            "webhook_id": outcome.webhook_id,
        }
    return 200, {
        "status": "ok",
        "webhook_id": outcome.webhook_id,
        "new_messages": outcome.new_messages,
        "duplicates": outcome.duplicates,
        "statuses": outcome.statuses,
    }


def _too_large(settings: Settings) -> dict[str, Any]:
    return {"detail": f"body over {settings.max_webhook_bytes} bytes", "code": "too_large"}


async def _read_limited(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    WEBHOOK_PATH,
    responses={
        400: {"description": "Not JSON or not a WhatsApp webhook (kept in dead letters)"},
        401: {"description": "Missing or wrong X-Hub-Signature-256"},
        413: {"description": "Body over 3 MB"},
    },
)
async def receive(request: Request) -> JSONResponse:
    """Documents the route; deliveries are normally answered by `WebhookFastPath` first."""
    inbox: Inbox = request.app.state.inbox
    settings: Settings = request.app.state.settings
    body = await _read_limited(request, settings.max_webhook_bytes)
    if body is None:
        return JSONResponse(_too_large(settings), status_code=413)
    client_ip = request.client.host if request.client else None
    status, content = await handle_delivery(
        inbox, settings, body, request.headers.get("x-hub-signature-256"), client_ip
    )
    return JSONResponse(content, status_code=status)


class WebhookFastPath:
    """Raw ASGI for `POST /webhooks/whatsapp`: WhatsApp's peak rate (1 000/s per number) is the
    API's hot path, and FastAPI's routing and dependency layers cost about as much CPU as the
    delivery itself. Same checks and answers as the route; everything else passes through."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != WEBHOOK_PATH:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        inbox: Inbox = state.inbox
        settings: Settings = state.settings
        headers = dict(scope["headers"])
        limit = settings.max_webhook_bytes
        declared = headers.get(b"content-length", b"")
        body: bytes | None = b""
        if declared.isdigit() and int(declared) > limit:
            body = None
        else:
            chunks, size, more = [], 0, True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # nothing acknowledged, nothing to answer
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    body = None
                    break
                chunks.append(chunk)
                more = message.get("more_body", False)
            if body is not None:
                body = b"".join(chunks)
        if body is None:
            status, content = 413, _too_large(settings)
        else:
            signature = headers.get(b"x-hub-signature-256")
            client = scope.get("client")
            status, content = await handle_delivery(
                inbox,
                settings,
                body,
                signature.decode("latin-1") if signature is not None else None,
                client[0] if client else None,
            )
        payload = orjson.dumps(content)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _hints(body: bytes) -> Hints | None:
    """The rows this delivery will read, so the writer fetches them for its whole batch at once.

    Parsing here costs a few microseconds; a body that does not parse gets no hints and is
    dead-lettered by the command itself.
    """
    try:
        updates = parse_webhook(orjson.loads(body))
    except (orjson.JSONDecodeError, PayloadError):
        return None
    hints = Hints()
    for update in updates:
        if isinstance(update, InboundMessage):
            hints.event_ids.append(f"msg:{update.message_id}")
            hints.contact_ids.append(update.contact_id)
            hints.conversation_ids.append(conversation_id_for(update.inbox_id, update.contact_id))
            hints.message_ids.append(update.message_id)
        elif isinstance(update, StatusUpdate):
            hints.message_ids.append(update.message_id)
    return hints
