"""Dependencies: the inbox, the authenticated actor, and role guards."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from inbox_api.domain import Actor, Inbox
from inbox_api.errors import Forbidden, InboxError
from inbox_api.security import TOKEN_PREFIX_LEN
from inbox_api.settings import Settings


class Unauthorized(InboxError):
    status_code = 401
    code = "unauthorized"


# Async so FastAPI calls them inline instead of handing each to the thread pool.
async def get_inbox(request: Request) -> Inbox:
    return request.app.state.inbox


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


InboxDep = Annotated[Inbox, Depends(get_inbox)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
_bearer = HTTPBearer(auto_error=False, description="A Bandeja token: `Bearer bdj_...`")


def authenticate(request: Request, token: str) -> Actor | None:
    """The active user a bearer token belongs to, or None (API and web inbox alike)."""
    inbox: Inbox = request.app.state.inbox
    rows = (
        inbox.store.reader()
        .execute(
            "select user_id, role, teams, token_hash from users "
            "where token_prefix = ? and active and token_hash is not null",
            [token[:TOKEN_PREFIX_LEN]],
        )
        .fetchall()
    )
    for user_id, role, teams, token_hash in rows:
        if request.app.state.tokens.verify(token, token_hash):
            return Actor(
                user_id=user_id,
                role=role,
                teams=tuple(teams),
                client_ip=request.client.host if request.client else None,
                method=request.method,
                path=request.url.path,
            )
    return None


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    actor = authenticate(request, credentials.credentials)
    if actor is None:
        raise Unauthorized("invalid or revoked token")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require(*roles: str):
    def guard(actor: CurrentActor) -> Actor:
        if actor.role not in roles:
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return actor

    return Depends(guard)


AgentActor = Annotated[Actor, require("agent", "supervisor", "admin")]
SupervisorActor = Annotated[Actor, require("supervisor", "admin")]
AdminActor = Annotated[Actor, require("admin")]
FeedActor = Annotated[Actor, require("analyst", "admin")]
