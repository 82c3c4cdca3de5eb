"""Bulk history import and conversions from outside systems (CRM)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from inbox_api.deps import AdminActor, InboxDep
from inbox_api.errors import Invalid, NotFound
from inbox_api.imports import ImportRejected, import_events, parse_ndjson, parse_parquet, validate
from inbox_api.schemas import ExternalConversionIn
from inbox_api.store.state import conversation_id_for

router = APIRouter(prefix="/v1", tags=["import"])
MAX_IMPORT_BYTES = 256 * 1024 * 1024


@router.post(
    "/import/events",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/vnd.apache.parquet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    },
    responses={422: {"description": "Batch rejected; `errors` names each bad row"}},
)
async def import_batch(
    request: Request,
    inbox: InboxDep,
    actor: AdminActor,
    content_type: Annotated[str | None, Header()] = None,
) -> Any:
    """Append events with their original times; idempotent by `event_id`; all or nothing."""
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise Invalid(f"batch body over {MAX_IMPORT_BYTES} bytes; split it")
    kind = (content_type or "").split(";")[0].strip()
    try:
        if kind == "application/vnd.apache.parquet":
            rows = parse_parquet(body)
        elif kind in ("application/x-ndjson", "application/jsonl", "application/json"):
            rows = parse_ndjson(body)
        else:
            return JSONResponse(
                {
                    "detail": "Content-Type must be application/x-ndjson or "
                    "application/vnd.apache.parquet",
                    "code": "unsupported_media_type",
                },
                status_code=415,
            )
        clean = validate(rows, inbox.store.clock())
    except ImportRejected as exc:
        return JSONResponse(
            {
                "detail": exc.message,
                "code": "invalid",
                "errors": [
                    {"row": e.row, "field": e.field, "message": e.message} for e in exc.errors
                ],
            },
            status_code=422,
        )
    return await inbox.store.run(lambda tx: import_events(inbox, tx, actor, clean))


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


@router.post("/conversions", status_code=201)
async def external_conversion(
    inbox: InboxDep, actor: AdminActor, body: ExternalConversionIn
) -> dict[str, Any]:
    """A sale or appointment from outside the inbox (CRM); idempotent by `external_id`."""
    ref = body.contact

    def command(tx):
        if ref.contact_id or ref.bsuid:
            key = ref.contact_id or ref.bsuid
            rows = tx.con.execute(
                "select contact_id from contacts where contact_id = ? or bsuid = ?", [key, key]
            ).fetchall()
        else:
            phone = _digits(ref.wa_id or ref.phone or "")
            if not phone:
                raise Invalid("the phone has no digits", field="contact.phone")
            rows = tx.con.execute(
                "select contact_id from contacts where wa_id = ? or contact_id = ?",
                [phone, phone],
            ).fetchall()
        if not rows:
            raise NotFound("no contact matches", field="contact")
        contact_id = rows[0][0]
        conversations = tx.con.execute(
            "select conversation_id from conversations where contact_id = ? "
            "order by last_message_at desc nulls last limit 1",
            [contact_id],
        ).fetchall()
        conversation = tx.conversation(conversations[0][0]) if conversations else None
        result = inbox.record_conversion(
            tx,
            actor,
            contact_id=contact_id,
            conversation=conversation,
            kind=body.kind,
            amount=body.amount,
            currency=body.currency,
            occurred_at=body.occurred_at,
            source="crm",
            external_id=body.external_id,
        )
        return {"contact_id": contact_id, **result}

    return await inbox.store.run(command)


__all__ = ["conversation_id_for", "router"]
