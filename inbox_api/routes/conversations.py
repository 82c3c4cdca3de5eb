"""The agents' REST API over conversations: read, reply, note, assign, status, tags, outcomes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query

from inbox_api.channels import template_message, text_message
from inbox_api.deps import AgentActor, InboxDep
from inbox_api.domain import Actor, Inbox
from inbox_api.errors import Forbidden, NotFound
from inbox_api.schemas import (
    AssignIn,
    ConversionIn,
    LeadIn,
    NoteIn,
    ReplyIn,
    StatusIn,
    SurveyIn,
    TagIn,
)

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])
ConversationId = Annotated[str, Path(min_length=1, max_length=256)]

_LIST_COLUMNS = (
    "c.conversation_id, c.inbox_id, c.contact_id, ct.profile_name, ct.wa_id, c.status, "
    "c.assignee_id, c.team_id, c.topic, c.tags, c.cycle_number, c.cycle_opened_at, "
    "c.waiting_since, c.last_inbound_at, c.last_human_reply_at, c.last_message_at, c.is_lead, "
    "c.snoozed_until"
)
_LIST_KEYS = [part.strip().split(".")[-1] for part in _LIST_COLUMNS.split(",")]
TIMELINE_TYPES = (
    "message",
    "note",
    "tag",
    "status_change",
    "assignment",
    "handoff",
    "topic",
    "escalation",
    "survey_sent",
    "survey_answer",
    "lead",
    "conversion",
)


def _visible_clause(actor: Actor) -> tuple[str, list[Any]]:
    """Agents and supervisors list what they may act on; admins and analysts see everything."""
    if actor.role == "agent":
        return (
            "(c.assignee_id = ? or (c.assignee_id is null and "
            "(c.team_id is null or list_contains(?, c.team_id))))",
            [actor.user_id, list(actor.teams)],
        )
    if actor.role == "supervisor":
        return "(c.team_id is null or list_contains(?, c.team_id))", [list(actor.teams)]
    return "true", []


@router.get("")
def list_conversations(
    inbox: InboxDep,
    actor: AgentActor,
    status: Literal["open", "pending", "snoozed", "resolved", "active"] | None = "active",
    assignee: Annotated[
        str | None, Query(max_length=64, description="agent id, 'me' or 'none'")
    ] = None,
    team: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    waiting: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    clauses, params = [], []
    visible, visible_params = _visible_clause(actor)
    clauses.append(visible)
    params.extend(visible_params)
    if status == "active":
        clauses.append("c.status <> 'resolved'")
    elif status:
        clauses.append("c.status = ?")
        params.append(status)
    if assignee == "none":
        clauses.append("c.assignee_id is null")
    elif assignee:
        clauses.append("c.assignee_id = ?")
        params.append(actor.user_id if assignee == "me" else assignee)
    if team:
        clauses.append("c.team_id = ?")
        params.append(team)
    if tag:
        clauses.append("list_contains(c.tags, ?)")
        params.append(tag)
    if waiting is not None:
        clauses.append("c.waiting_since is not null" if waiting else "c.waiting_since is null")
    where = " and ".join(clauses)
    rows = (
        inbox.store.reader()
        .execute(
            f"select {_LIST_COLUMNS} from conversations c "
            f"left join contacts ct using (contact_id) where {where} "
            "order by c.waiting_since asc nulls last, c.last_message_at desc nulls last, "
            "c.conversation_id limit ? offset ?",
            [*params, limit, offset],
        )
        .fetchall()
    )
    items = [_with_deadline(inbox, dict(zip(_LIST_KEYS, row, strict=True))) for row in rows]
    return {"items": items, "limit": limit, "offset": offset}


def _with_deadline(inbox: Inbox, item: dict[str, Any]) -> dict[str, Any]:
    """SLA deadline of the current wait (METRICS.md section 3), for ordering by urgency."""
    waiting = item.get("waiting_since")
    item["sla_deadline_at"] = inbox.sla_deadline(waiting) if waiting else None
    return item


def _load(inbox: Inbox, actor: Actor, conversation_id: str) -> dict[str, Any]:
    reader = inbox.store.reader()
    rows = reader.execute(
        f"select {_LIST_COLUMNS} from conversations c left join contacts ct using (contact_id) "
        "where c.conversation_id = ?",
        [conversation_id],
    ).fetchall()
    if not rows:
        raise NotFound(f"conversation {conversation_id!r} not found")
    item = dict(zip(_LIST_KEYS, rows[0], strict=True))
    if actor.role == "agent" and not (
        item["assignee_id"] == actor.user_id
        or (
            item["assignee_id"] is None
            and (item["team_id"] is None or item["team_id"] in actor.teams)
        )
    ):
        raise Forbidden(f"agent {actor.user_id!r} may not read conversation {conversation_id!r}")
    if actor.role == "supervisor" and item["team_id"] not in (None, *actor.teams):
        raise Forbidden(f"supervisor {actor.user_id!r} does not supervise team {item['team_id']!r}")
    return _with_deadline(inbox, item)


@router.get("/{conversation_id}")
def get_conversation(
    inbox: InboxDep, actor: AgentActor, conversation_id: ConversationId
) -> dict[str, Any]:
    item = _load(inbox, actor, conversation_id)
    reader = inbox.store.reader()
    events = reader.execute(
        "select seq, event_type, occurred_at, actor_kind, actor_id, payload from events "
        "where conversation_id = ? and list_contains(?, event_type) order by occurred_at, seq",
        [conversation_id, list(TIMELINE_TYPES)],
    ).fetchall()
    delivery = dict(
        reader.execute(
            "select message_id, case when failed then 'failed' else status end "
            "from message_state where conversation_id = ? and direction = 'outbound'",
            [conversation_id],
        ).fetchall()
    )
    timeline = []
    for seq, event_type, occurred_at, actor_kind, actor_id, payload in events:
        data = orjson.loads(payload)
        entry = {
            "seq": seq,
            "type": event_type,
            "at": occurred_at,
            "actor_kind": actor_kind,
            "actor_id": actor_id,
            **data,
        }
        if event_type == "message" and data.get("direction") == "outbound":
            entry["delivery"] = delivery.get(data.get("message_id"))
        timeline.append(entry)
    item["timeline"] = timeline
    last = item.get("last_inbound_at")
    item["window_open"] = bool(last and inbox.store.clock() - last <= dt.timedelta(hours=24))
    return item


@router.post("/{conversation_id}/messages", status_code=201)
async def reply(
    inbox: InboxDep, actor: AgentActor, conversation_id: ConversationId, body: ReplyIn
) -> dict[str, Any]:
    return await send_reply(inbox, actor, conversation_id, body)


async def send_reply(
    inbox: Inbox, actor: Actor, conversation_id: str, body: ReplyIn
) -> dict[str, Any]:
    """Check the rules, send through the channel, then record: nothing is stored unsent."""
    template = body.template
    spec = (template.name, template.language, len(template.variables)) if template else None
    _, contact = await inbox.store.run(
        lambda tx: inbox.check_reply(
            tx, actor, conversation_id, is_template=template is not None, template=spec
        )
    )
    to = contact.wa_id or contact.contact_id
    if template:
        message = template_message(template.name, template.language, template.variables)
    else:
        message = text_message(body.text, body.reply_to)
    conversation_inbox = conversation_id.split(":", 1)[0]
    sent = await inbox.channel.send(conversation_inbox, to, message)
    return await inbox.store.run(
        lambda tx: inbox.record_outbound(
            tx,
            actor,
            conversation_id,
            sent,
            message_type="template" if template else "text",
            body=body.text if not template else " | ".join(template.variables) or None,
            template_name=template.name if template else None,
            reply_to=body.reply_to,
        )
    )


@router.post("/{conversation_id}/notes", status_code=201)
async def add_note(
    inbox: InboxDep, actor: AgentActor, conversation_id: ConversationId, body: NoteIn
) -> dict[str, Any]:
    return await inbox.store.run(lambda tx: inbox.add_note(tx, actor, conversation_id, body.body))


@router.post("/{conversation_id}/assignment")
async def assign(
    inbox: InboxDep, actor: AgentActor, conversation_id: ConversationId, body: AssignIn
) -> dict[str, Any]:
    if (
        actor.role == "agent"
        and body.agent_id not in (None, actor.user_id)
        and body.team_id is None
    ):
        # Agents may take a conversation or hand it to a team queue, not push it onto a colleague.
        raise Forbidden("agents may assign to themselves or transfer to a team queue only")
    reason = "transfer" if body.team_id else "manual"
    conversation = await inbox.store.run(
        lambda tx: inbox.assign(
            tx, actor, conversation_id, body.agent_id, body.team_id, reason=reason
        )
    )
    return {
        "conversation_id": conversation.conversation_id,
        "assignee_id": conversation.assignee_id,
        "team_id": conversation.team_id,
    }


@router.post("/{conversation_id}/status")
async def change_status(
    inbox: InboxDep, actor: AgentActor, conversation_id: ConversationId, body: StatusIn
) -> dict[str, Any]:
    status = "open" if body.status == "reopen" else body.status
    conversation = await inbox.store.run(
        lambda tx: inbox.set_status(
            tx, actor, conversation_id, status, snoozed_until=body.snoozed_until
        )
    )
    return {"conversation_id": conversation.conversation_id, "status": conversation.status}


@router.post("/{conversation_id}/tags", status_code=201)
async def add_tag(
    inbox: InboxDep, actor: AgentActor, conversation_id: ConversationId, body: TagIn
) -> dict[str, Any]:
    tags = await inbox.store.run(lambda tx: inbox.tag(tx, actor, conversation_id, body.tag, True))
    return {"conversation_id": conversation_id, "tags": tags}


@router.delete("/{conversation_id}/tags/{tag}")
async def remove_tag(
    inbox: InboxDep,
    actor: AgentActor,
    conversation_id: ConversationId,
    tag: Annotated[str, Path(min_length=1, max_length=64)],
) -> dict[str, Any]:
    tags = await inbox.store.run(lambda tx: inbox.tag(tx, actor, conversation_id, tag, False))
    return {"conversation_id": conversation_id, "tags": tags}


@router.post("/{conversation_id}/lead", status_code=201)
async def mark_lead(
    inbox: InboxDep, actor: AgentActor, conversation_id: ConversationId, body: LeadIn
) -> dict[str, Any]:
    return await inbox.store.run(lambda tx: inbox.mark_lead(tx, actor, conversation_id, body.note))


@router.post("/{conversation_id}/conversions", status_code=201)
async def record_conversion(
    inbox: InboxDep, actor: AgentActor, conversation_id: ConversationId, body: ConversionIn
) -> dict[str, Any]:
    def command(tx):
        conversation = inbox.load_for(tx, actor, conversation_id)
        return inbox.record_conversion(
            tx,
            actor,
            contact_id=conversation.contact_id,
            conversation=conversation,
            kind=body.kind,
            amount=body.amount,
            currency=body.currency,
            occurred_at=body.occurred_at,
            source="agent",
            external_id=body.external_id,
        )

    return await inbox.store.run(command)


@router.post("/{conversation_id}/surveys", status_code=201)
async def record_survey(
    inbox: InboxDep, actor: AgentActor, conversation_id: ConversationId, body: SurveyIn
) -> dict[str, Any]:
    def command(tx):
        conversation = inbox.load_for(tx, actor, conversation_id)
        return inbox.record_survey_answer(tx, actor, conversation, body.kind, body.score)

    return await inbox.store.run(command)
