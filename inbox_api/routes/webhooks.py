"""WhatsApp Cloud API webhooks: the verification handshake and signed deliveries."""

from __future__ import annotations

from typing import Annotated

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
    "/webhooks/whatsapp",
    responses={
        400: {"description": "Not JSON or not a WhatsApp webhook (kept in dead letters)"},
        401: {"description": "Missing or wrong X-Hub-Signature-256"},
        413: {"description": "Body over 3 MB"},
    },
)
async def receive(request: Request) -> JSONResponse:
    # No dependencies on purpose: this is the hot path, and app state is all it needs.
    inbox: Inbox = request.app.state.inbox
    settings: Settings = request.app.state.settings
    body = await _read_limited(request, settings.max_webhook_bytes)
    if body is None:
        return JSONResponse(
            {"detail": f"body over {settings.max_webhook_bytes} bytes", "code": "too_large"},
            status_code=413,
        )
    signature = request.headers.get("x-hub-signature-256")
    if not verify(body, signature, settings.whatsapp_app_secret.get_secret_value()):
        client_ip = request.client.host if request.client else None

        def audit_rejection(tx) -> None:
            tx.event(
                "audit",
                payload={
                    "action": "webhook.rejected",
                    "method": "POST",
                    "path": request.url.path,
                    "client_ip": client_ip,
                    "status_code": 401,
                    "detail": {"reason": "missing" if not signature else "mismatch"},
                },
                actor_kind="system",
            )

        await inbox.store.run(audit_rejection)
        return JSONResponse(
            {"detail": "missing or invalid X-Hub-Signature-256", "code": "bad_signature"},
            status_code=401,
        )
    outcome = await inbox.store.run(inbox.webhook_command(body), _hints(body))
    if not outcome.accepted:
        return JSONResponse(
            {"detail": outcome.error, "code": "bad_payload", "webhook_id": outcome.webhook_id},
            status_code=400,
        )
    return JSONResponse(
        {
            "status": "ok",
            "webhook_id": outcome.webhook_id,
            "new_messages": outcome.new_messages,
            "duplicates": outcome.duplicates,
            "statuses": outcome.statuses,
        }
    )


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
