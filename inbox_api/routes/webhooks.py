"""WhatsApp Cloud API webhooks: the verification handshake and signed deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from inbox_api.deps import InboxDep, SettingsDep
from inbox_api.whatsapp.signature import verify

router = APIRouter(tags=["webhooks"])


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse)
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
async def receive(request: Request, inbox: InboxDep, settings: SettingsDep) -> JSONResponse:
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
    outcome = await inbox.store.run(inbox.webhook_command(body))
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
