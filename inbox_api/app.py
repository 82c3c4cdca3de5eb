"""The FastAPI application: `create_app(settings)` wires store, inbox, routes and errors."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from inbox_api import routing, sla
from inbox_api.channels import Channel, CloudApiChannel, SandboxChannel
from inbox_api.domain import Inbox
from inbox_api.errors import InboxError, install_http_error_handler
from inbox_api.imports import upsert_agent_row
from inbox_api.routes import conversations, feed, imports, library, queue, users, webhooks
from inbox_api.schemas import document_errors
from inbox_api.security import TokenCache, hash_token
from inbox_api.settings import Settings, get_settings
from inbox_api.store.journal import WebhookJournal
from inbox_api.store.writer import Clock, EventStore, Tx, utcnow
from inbox_api.web import pages
from ingest.config import BusinessConfig, load_config

log = logging.getLogger(__name__)


def make_channel(settings: Settings) -> Channel:
    if settings.channel == "cloud":
        return CloudApiChannel(
            settings.whatsapp_api_base, settings.whatsapp_access_token.get_secret_value()
        )
    return SandboxChannel()


def seed(inbox: Inbox, settings: Settings) -> None:
    """Teams and agents from the config file, and the admin (and feed) token from settings."""
    config = inbox.config

    def command(tx: Tx) -> None:
        for team in config.teams:
            existing = tx.con.execute(
                "select name from teams where team_id = ?", [team.id]
            ).fetchall()
            if not existing or existing[0][0] != team.name:
                tx.con.execute("insert or replace into teams values (?, ?)", [team.id, team.name])
                tx.event(
                    "team", payload={"team_id": team.id, "name": team.name}, actor_kind="system"
                )
        for agent in config.agents:
            payload = {
                "agent_id": agent.id,
                "name": agent.name,
                "role": agent.role,
                "team_ids": agent.teams,
                "skills": agent.skills,
                "capacity": agent.capacity,
                "active": True,
            }
            rows = tx.con.execute(
                "select name, role, teams, skills, capacity from users where user_id = ?",
                [agent.id],
            ).fetchall()
            current = (agent.name, agent.role, agent.teams, agent.skills, agent.capacity)
            if not rows or _agent_row(rows[0]) != current:
                upsert_agent_row(tx, payload)
                tx.event("agent", payload=payload, actor_kind="system")
        _ensure_token_user(
            tx, "admin", "Administrator", "admin", settings.admin_token.get_secret_value(), inbox
        )
        feed_token = settings.feed_token.get_secret_value()
        if feed_token and feed_token != settings.admin_token.get_secret_value():
            _ensure_token_user(tx, "pipeline", "Metrics pipeline", "analyst", feed_token, inbox)

    inbox.store.run_sync(command)


def _agent_row(row: tuple) -> tuple:
    name, role, teams, skills, capacity = row
    return (name, role, list(teams), list(skills), capacity)


def _ensure_token_user(
    tx: Tx, user_id: str, name: str, role: str, token: str, inbox: Inbox
) -> None:
    """The env token is the source of truth for built-in users: rotate the hash when it changes."""
    rows = tx.con.execute("select token_hash from users where user_id = ?", [user_id]).fetchall()
    tokens = TokenCache()
    if rows and rows[0][0] and tokens.verify(token, rows[0][0]):
        return
    if not rows:
        upsert_agent_row(
            tx,
            {
                "agent_id": user_id,
                "name": name,
                "role": role,
                "team_ids": [team.id for team in inbox.config.teams],
            },
        )
    token_hash, prefix = hash_token(token)
    tx.con.execute(
        "update users set token_hash = ?, token_prefix = ? where user_id = ?",
        [token_hash, prefix, user_id],
    )


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = utcnow,
    channel: Channel | None = None,
    config: BusinessConfig | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    config = config or load_config(settings.config_file)
    # The SLA loop and the alert notifier start first; callers may append more hooks.
    startup_hooks: list[Callable[[FastAPI], Any]] = [sla.start]

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = EventStore(
            settings.inbox_db,
            clock=clock,
            max_batch=settings.commit_max_batch,
            threads=settings.inbox_db_threads,
        )
        inbox = Inbox(store, config, channel or make_channel(settings))
        app.state.inbox = inbox
        app.state.settings = settings
        app.state.tokens = TokenCache()
        app.state.automation = routing.install(inbox)
        seed(inbox, settings)
        journal = WebhookJournal(store, inbox.webhook_command, max_batch=settings.commit_max_batch)
        journal.recover()
        app.state.journal = journal
        stops = [hook(app) for hook in startup_hooks]
        try:
            yield
        finally:
            for stop in stops:
                if stop is not None:
                    await stop()
            journal.close()
            await inbox.channel.aclose()
            store.close()

    app = FastAPI(
        title="Bandeja inbox API",
        version="0.1.0",
        description="A shared WhatsApp inbox for many agents; every change is an event.",
        lifespan=lifespan,
    )
    app.state.startup_hooks = startup_hooks

    @app.exception_handler(InboxError)
    async def inbox_error(_: Request, exc: InboxError) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.message, "code": exc.code, "field": exc.field},
            status_code=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(part) for part in err.get("loc", ()) if part != "body"),
                "message": err.get("msg", "invalid"),
            }
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        return JSONResponse(
            {
                "detail": f"{first['field']}: {first['message']}",
                "code": "invalid",
                "field": first["field"],
                "errors": errors,
            },
            status_code=422,
        )

    @app.get("/health", tags=["health"])
    def health(request: Request) -> dict[str, Any]:
        inbox: Inbox = request.app.state.inbox
        journal: WebhookJournal = request.app.state.journal
        return {
            "status": "ok",
            "last_seq": inbox.store.last_seq,
            # Acknowledged webhooks the writer has not applied yet (normally a batch or two).
            "webhooks_pending": journal.pending,
        }

    for module in (webhooks, conversations, feed, imports, users, library, queue):
        app.include_router(module.router)
    install_http_error_handler(app)
    document_errors(app)
    app.add_middleware(webhooks.WebhookFastPath)
    pages.mount(app)
    return app
