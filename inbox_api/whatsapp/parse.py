"""Meta's webhook envelope → flat, typed updates. Iterates every entry, change, message and status.

Nothing is dropped: message types we do not render are kept with their raw object, and changes
other than `messages` become `channel_update` items.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any


class PayloadError(ValueError):
    """The body is JSON but not a WhatsApp webhook; the message names the path."""


@dataclasses.dataclass(slots=True)
class InboundMessage:
    inbox_id: str
    message_id: str
    contact_id: str
    wa_id: str | None
    bsuid: str | None
    profile_name: str | None
    occurred_at: dt.datetime
    message_type: str
    body: str | None
    reply_to_message_id: str | None
    interactive_id: str | None
    raw: dict[str, Any]


@dataclasses.dataclass(slots=True)
class StatusUpdate:
    inbox_id: str
    message_id: str
    status: str
    occurred_at: dt.datetime
    recipient_id: str | None
    error_code: str | None
    error_title: str | None
    pricing_type: str | None
    pricing_category: str | None


@dataclasses.dataclass(slots=True)
class ChannelUpdate:
    inbox_id: str | None
    field: str
    value: dict[str, Any]


Update = InboundMessage | StatusUpdate | ChannelUpdate


def _ts(value: Any, path: str) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise PayloadError(f"{path}: timestamp {value!r} is not Unix seconds") from exc


def _require(obj: Any, key: str, kind: type, path: str) -> Any:
    if not isinstance(obj, dict):
        raise PayloadError(f"{path}: expected an object")
    value = obj.get(key)
    if not isinstance(value, kind):
        raise PayloadError(f"{path}.{key}: missing or not a {kind.__name__}")
    return value


def message_text(message: dict[str, Any]) -> tuple[str | None, str | None]:
    """(text shown to agents, button/list payload id) for a message object."""
    kind = message.get("type")
    obj = message.get(kind) if isinstance(kind, str) else None
    obj = obj if isinstance(obj, dict) else {}
    if kind == "text":
        return obj.get("body"), None
    if kind == "interactive":
        sub = obj.get(obj.get("type", ""), {})
        if isinstance(sub, dict):
            return sub.get("title"), sub.get("id")
        return None, None
    if kind == "button":
        return obj.get("text"), obj.get("payload")
    if kind in ("image", "video", "document", "sticker", "audio"):
        return obj.get("caption"), None
    if kind == "reaction":
        return obj.get("emoji"), None
    if kind == "location":
        return obj.get("name") or obj.get("address"), None
    if kind == "order":
        return obj.get("text"), None
    return None, None


def parse_webhook(payload: Any) -> list[Update]:
    if not isinstance(payload, dict):
        raise PayloadError("body: expected a JSON object")
    if payload.get("object") != "whatsapp_business_account":
        raise PayloadError("object: expected 'whatsapp_business_account'")
    updates: list[Update] = []
    for e_index, entry in enumerate(_require(payload, "entry", list, "body")):
        e_path = f"entry[{e_index}]"
        for c_index, change in enumerate(_require(entry, "changes", list, e_path)):
            c_path = f"{e_path}.changes[{c_index}]"
            field = _require(change, "field", str, c_path)
            value = _require(change, "value", dict, c_path)
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            inbox_id = metadata.get("phone_number_id")
            if field != "messages":
                updates.append(ChannelUpdate(inbox_id, field, value))
                continue
            if not isinstance(inbox_id, str) or not inbox_id:
                raise PayloadError(f"{c_path}.value.metadata.phone_number_id: missing")
            updates.extend(_messages(value, inbox_id, f"{c_path}.value"))
            updates.extend(_statuses(value, inbox_id, f"{c_path}.value"))
            if value.get("errors"):
                updates.append(ChannelUpdate(inbox_id, "errors", {"errors": value["errors"]}))
    return updates


def _messages(value: dict[str, Any], inbox_id: str, path: str) -> list[InboundMessage]:
    messages = value.get("messages") or []
    if not isinstance(messages, list):
        raise PayloadError(f"{path}.messages: not a list")
    contacts = value.get("contacts") or []
    by_wa_id = {c.get("wa_id"): c for c in contacts if isinstance(c, dict)}
    result = []
    for index, message in enumerate(messages):
        m_path = f"{path}.messages[{index}]"
        message_id = _require(message, "id", str, m_path)
        kind = message.get("type") if isinstance(message.get("type"), str) else "unknown"
        sender = message.get("from")
        contact = by_wa_id.get(sender) or (contacts[0] if len(contacts) == 1 else {})
        contact = contact if isinstance(contact, dict) else {}
        bsuid = contact.get("user_id") or message.get("from_user_id")
        wa_id = contact.get("wa_id") or sender
        contact_id = bsuid or wa_id
        if not contact_id:
            raise PayloadError(f"{m_path}: no sender (from / contacts[].user_id)")
        profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
        context = message.get("context") if isinstance(message.get("context"), dict) else {}
        body, interactive_id = message_text(message)
        reply_to = context.get("id")
        if kind == "reaction" and isinstance(message.get("reaction"), dict):
            reply_to = message["reaction"].get("message_id")
        result.append(
            InboundMessage(
                inbox_id=inbox_id,
                message_id=message_id,
                contact_id=contact_id,
                wa_id=wa_id,
                bsuid=bsuid,
                profile_name=profile.get("name"),
                occurred_at=_ts(message.get("timestamp"), f"{m_path}.timestamp"),
                message_type=kind,
                body=body,
                reply_to_message_id=reply_to,
                interactive_id=interactive_id,
                raw=message,
            )
        )
    return result


def _statuses(value: dict[str, Any], inbox_id: str, path: str) -> list[StatusUpdate]:
    statuses = value.get("statuses") or []
    if not isinstance(statuses, list):
        raise PayloadError(f"{path}.statuses: not a list")
    result = []
    for index, status in enumerate(statuses):
        s_path = f"{path}.statuses[{index}]"
        errors = status.get("errors") if isinstance(status, dict) else None
        error = errors[0] if isinstance(errors, list) and errors else {}
        pricing = status.get("pricing") if isinstance(status.get("pricing"), dict) else {}
        result.append(
            StatusUpdate(
                inbox_id=inbox_id,
                message_id=_require(status, "id", str, s_path),
                status=_require(status, "status", str, s_path),
                occurred_at=_ts(status.get("timestamp"), f"{s_path}.timestamp"),
                recipient_id=status.get("recipient_id"),
                error_code=str(error["code"]) if error.get("code") is not None else None,
                error_title=error.get("title"),
                pricing_type=pricing.get("type"),
                pricing_category=pricing.get("category"),
            )
        )
    return result
