"""Users and tokens, the caller's identity, and the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request

from inbox_api.deps import AdminActor, CurrentActor, InboxDep, SupervisorActor
from inbox_api.errors import Conflict, NotFound
from inbox_api.imports import upsert_agent_row
from inbox_api.schemas import UserCreate, UserPublic, UserWithToken
from inbox_api.security import hash_token, new_token

router = APIRouter(prefix="/v1", tags=["users"])
_USER_COLUMNS = "user_id, name, role, teams, skills, capacity, active"


def _public(row: tuple) -> dict[str, Any]:
    user_id, name, role, teams, skills, capacity, active = row
    return {
        "id": user_id,
        "name": name,
        "role": role,
        "teams": list(teams),
        "skills": list(skills),
        "capacity": capacity,
        "active": active,
    }


@router.get("/me", response_model=UserPublic)
def me(inbox: InboxDep, actor: CurrentActor) -> dict[str, Any]:
    rows = (
        inbox.store.reader()
        .execute(f"select {_USER_COLUMNS} from users where user_id = ?", [actor.user_id])
        .fetchall()
    )
    return _public(rows[0])


@router.get("/users", response_model=list[UserPublic])
def list_users(inbox: InboxDep, _: SupervisorActor) -> list[dict[str, Any]]:
    rows = (
        inbox.store.reader()
        .execute(f"select {_USER_COLUMNS} from users order by user_id")
        .fetchall()
    )
    return [_public(row) for row in rows]


@router.post("/users", status_code=201, response_model=UserWithToken)
async def create_user(
    inbox: InboxDep, actor: AdminActor, body: UserCreate, request: Request
) -> dict[str, Any]:
    """Create a user (or give an existing config agent a token). The token is shown once."""
    token = new_token()
    token_hash, prefix = hash_token(token)

    def command(tx):
        rows = tx.con.execute(
            "select token_hash from users where user_id = ?", [body.id]
        ).fetchall()
        if rows and rows[0][0] is not None:
            raise Conflict(f"user {body.id!r} already has a token; rotate it instead", field="id")
        for team in body.teams:
            if not tx.con.execute("select 1 from teams where team_id = ?", [team]).fetchall():
                raise NotFound(f"team {team!r} does not exist", field="teams")
        _write_user(tx, body, token_hash, prefix)
        inbox.audit(tx, actor, "user.created", None, {"user_id": body.id, "role": body.role})

    await inbox.store.run(command)
    return {**body.model_dump(), "active": True, "token": token}


def _write_user(tx, body: UserCreate, token_hash: str, prefix: str) -> None:
    upsert_agent_row(
        tx,
        {
            "agent_id": body.id,
            "name": body.name,
            "role": body.role,
            "team_ids": body.teams,
            "skills": body.skills,
            "capacity": body.capacity,
        },
    )
    tx.con.execute(
        "update users set token_hash = ?, token_prefix = ? where user_id = ?",
        [token_hash, prefix, body.id],
    )
    tx.event(
        "agent",
        payload={
            "agent_id": body.id,
            "name": body.name,
            "role": body.role,
            "team_ids": body.teams,
            "skills": body.skills,
            "capacity": body.capacity,
            "active": True,
        },
        actor_kind="system",
    )


@router.post("/users/{user_id}/token", status_code=201)
async def rotate_token(
    inbox: InboxDep,
    actor: AdminActor,
    user_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> dict[str, str]:
    token = new_token()
    token_hash, prefix = hash_token(token)

    def command(tx):
        if not tx.con.execute("select 1 from users where user_id = ?", [user_id]).fetchall():
            raise NotFound(f"user {user_id!r} not found")
        tx.con.execute(
            "update users set token_hash = ?, token_prefix = ? where user_id = ?",
            [token_hash, prefix, user_id],
        )
        inbox.audit(tx, actor, "user.token_rotated", None, {"user_id": user_id})

    await inbox.store.run(command)
    return {"id": user_id, "token": token}


@router.get("/audit")
def audit_log(
    inbox: InboxDep,
    actor: SupervisorActor,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    conversation_id: Annotated[str | None, Query(max_length=256)] = None,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    clauses, params = ["event_type = 'audit'", "seq > ?"], [after]
    if conversation_id:
        clauses.append("conversation_id = ?")
        params.append(conversation_id)
    if user_id:
        clauses.append("actor_id = ?")
        params.append(user_id)
    rows = (
        inbox.store.reader()
        .execute(
            "select seq, occurred_at, actor_kind, actor_id, conversation_id, payload from events "
            f"where {' and '.join(clauses)} order by seq limit ?",
            [*params, limit],
        )
        .fetchall()
    )
    items = [
        {
            "seq": seq,
            "at": at,
            "actor_kind": kind,
            "actor_id": actor_id,
            "conversation_id": conversation,
            **orjson.loads(payload),
        }
        for seq, at, kind, actor_id, conversation, payload in rows
    ]
    return {"items": items, "next_after": items[-1]["seq"] if items else after}
