"""Quick replies and approved message templates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from inbox_api.deps import AdminActor, AgentActor, InboxDep, SupervisorActor
from inbox_api.errors import Conflict, NotFound
from inbox_api.routes.conversations import send_reply
from inbox_api.schemas import QuickReplyIn, QuickReplyUse, ReplyIn, TemplateIn

router = APIRouter(prefix="/v1", tags=["quick replies and templates"])


@router.get("/quick-replies")
def list_quick_replies(inbox: InboxDep, actor: AgentActor) -> list[dict[str, Any]]:
    rows = (
        inbox.store.reader()
        .execute(
            "select quick_reply_id, team_id, shortcut, body, use_count from quick_replies "
            "where team_id is null or list_contains(?, team_id) or ? order by shortcut",
            [list(actor.teams), actor.role == "admin"],
        )
        .fetchall()
    )
    keys = ("id", "team_id", "shortcut", "body", "use_count")
    return [dict(zip(keys, row, strict=True)) for row in rows]


@router.post("/quick-replies", status_code=201)
async def create_quick_reply(
    inbox: InboxDep, actor: SupervisorActor, body: QuickReplyIn
) -> dict[str, Any]:
    shortcut = body.shortcut if body.shortcut.startswith("/") else f"/{body.shortcut}"
    quick_reply_id = f"{body.team_id or 'all'}{shortcut}"

    def command(tx):
        if tx.con.execute(
            "select 1 from quick_replies where quick_reply_id = ?", [quick_reply_id]
        ).fetchall():
            raise Conflict(f"shortcut {shortcut!r} already exists for this team", field="shortcut")
        tx.con.execute(
            "insert into quick_replies values (?, ?, ?, ?, 0)",
            [quick_reply_id, body.team_id, shortcut, body.body],
        )
        inbox.audit(tx, actor, "quick_reply.created", None, {"id": quick_reply_id})

    await inbox.store.run(command)
    return {"id": quick_reply_id, "team_id": body.team_id, "shortcut": shortcut, "body": body.body}


@router.post("/quick-replies/{quick_reply_id:path}/use", status_code=201)
async def use_quick_reply(
    inbox: InboxDep,
    actor: AgentActor,
    quick_reply_id: Annotated[str, Path(min_length=1, max_length=128)],
    body: QuickReplyUse,
) -> dict[str, Any]:
    rows = (
        inbox.store.reader()
        .execute("select body from quick_replies where quick_reply_id = ?", [quick_reply_id])
        .fetchall()
    )
    if not rows:
        raise NotFound(f"quick reply {quick_reply_id!r} not found")
    sent = await send_reply(inbox, actor, body.conversation_id, ReplyIn(text=rows[0][0]))

    def count(tx):
        tx.con.execute(
            "update quick_replies set use_count = use_count + 1 where quick_reply_id = ?",
            [quick_reply_id],
        )

    await inbox.store.run(count)
    return sent


@router.get("/templates")
def list_templates(inbox: InboxDep, _: AgentActor) -> list[dict[str, Any]]:
    rows = (
        inbox.store.reader()
        .execute(
            "select name, language, category, body, variable_count, status from templates "
            "order by name, language"
        )
        .fetchall()
    )
    keys = ("name", "language", "category", "body", "variable_count", "status")
    return [dict(zip(keys, row, strict=True)) for row in rows]


@router.put("/templates/{name}/{language}")
async def put_template(
    inbox: InboxDep,
    actor: AdminActor,
    name: Annotated[str, Path(min_length=1, max_length=64)],
    language: Annotated[str, Path(min_length=2, max_length=16)],
    body: TemplateIn,
) -> dict[str, Any]:
    if (body.name, body.language) != (name, language):
        raise Conflict("the body's name and language must match the path", field="name")

    def command(tx):
        tx.con.execute(
            "insert or replace into templates values (?, ?, ?, ?, ?, ?)",
            [name, language, body.category, body.body, body.variable_count, body.status],
        )
        inbox.audit(tx, actor, "template.saved", None, {"name": name, "status": body.status})

    await inbox.store.run(command)
    return {**body.model_dump(), "variable_count": body.variable_count}
