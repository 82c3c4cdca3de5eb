"""WhatsApp Cloud API webhooks: the verification handshake and signed deliveries."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

import duckdb
import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from inbox_api.deps import InboxDep, SettingsDep, SupervisorActor
from inbox_api.domain import Inbox
from inbox_api.errors import NotFound
from inbox_api.settings import Settings
from inbox_api.store.journal import ACCEPTED, WebhookJournal, read_delivery
from inbox_api.whatsapp.parse import InboundMessage, StatusUpdate
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
    state: Any, body: bytes, signature: str | None, client_ip: str | None
) -> tuple[int, dict[str, Any]]:
    """Verify, journal, acknowledge: (status, JSON body). Shared by the route and the fast path.

    A 200 means the raw body is committed; applying it (messages, cycles, routing, replies)
    follows on the writer, and `GET /v1/webhooks/{webhook_id}` tells when it has been.
    """
    inbox: Inbox = state.inbox
    settings: Settings = state.settings
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
    journal: WebhookJournal = state.journal
    delivery = read_delivery(body)
    try:
        webhook_id = await journal.record(delivery)
    except duckdb.Error as exc:  # e.g. a full disk: not stored, so WhatsApp must retry
        return 503, {
            "detail": f"delivery not stored: {exc.__class__.__name__}",
            "code": "unavailable",
        }
    if delivery.reason is not None:
        return 400, {"detail": delivery.reason, "code": "bad_payload", "webhook_id": webhook_id}
    updates = delivery.updates or []
    return 200, {
        "status": "accepted",
        "webhook_id": webhook_id,
        "messages": sum(isinstance(update, InboundMessage) for update in updates),
        "statuses": sum(isinstance(update, StatusUpdate) for update in updates),
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
        503: {"description": "The body could not be stored; WhatsApp retries"},
    },
)
async def receive(request: Request) -> JSONResponse:
    """Documents the route; deliveries are normally answered by `WebhookFastPath` first."""
    settings: Settings = request.app.state.settings
    body = await _read_limited(request, settings.max_webhook_bytes)
    if body is None:
        return JSONResponse(_too_large(settings), status_code=413)
    client_ip = request.client.host if request.client else None
    status, content = await handle_delivery(
        request.app.state, body, request.headers.get("x-hub-signature-256"), client_ip
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
                state,
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


@router.get("/v1/webhooks/{webhook_id}")
async def delivery_status(
    inbox: InboxDep,
    _: SupervisorActor,
    webhook_id: Annotated[int, Path(ge=1, le=2**62)],
    wait: Annotated[
        float, Query(ge=0, le=30, description="Seconds to wait for a pending delivery")
    ] = 0,
) -> dict[str, Any]:
    """Where one delivery stands: `pending` (acknowledged, not yet applied), `applied` (with
    what it did), or `rejected` (answered 400, kept in dead letters)."""
    status = _delivery(inbox, webhook_id)
    if status["state"] == "pending" and wait:
        # Deliveries reach the writer in order before they are acknowledged, so a no-op queued
        # now returns once this one is applied.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(inbox.store.run(lambda tx: None), timeout=wait)
        status = _delivery(inbox, webhook_id)
    return status


def _delivery(inbox: Inbox, webhook_id: int) -> dict[str, Any]:
    con = inbox.store.reader()
    rows = con.execute(
        "select received_at, outcome from raw_webhooks where webhook_id = ?", [webhook_id]
    ).fetchall()
    if not rows:
        raise NotFound(f"no webhook delivery {webhook_id}", field="webhook_id")
    received_at, outcome = rows[0]
    status: dict[str, Any] = {"webhook_id": webhook_id, "received_at": received_at}
    applied = con.execute(
        "select applied_at, new_messages, duplicates, statuses, error from webhook_outcomes "
        "where webhook_id = ?",
        [webhook_id],
    ).fetchall()
    if applied:
        applied_at, new_messages, duplicates, statuses, error = applied[0]
        return status | {
            "state": "applied",
            "applied_at": applied_at,
            "new_messages": new_messages,
            "duplicates": duplicates,
            "statuses": statuses,
            "error": error,
        }
    if outcome == ACCEPTED:
        return status | {"state": "pending"}
    reasons = con.execute(
        "select reason from dead_letters where webhook_id = ? order by received_at", [webhook_id]
    ).fetchall()
    # Rows from before the journal ("received") were applied on arrival; outcome unrecorded.
    state = "rejected" if outcome == "rejected" else "applied"
    return status | {"state": state, "error": reasons[0][0] if reasons else None}
