"""`/inbox`: the agents' web inbox, server-rendered with Jinja2, no front-end build.

Sign-in stores the bearer token in an HttpOnly, SameSite=Strict cookie scoped to `/inbox`.
Every form carries a CSRF token derived from the session token (HMAC), checked on each POST;
with the strict same-site cookie that is two independent guards. Actions call the same domain
functions as the REST API, so permissions, validation and audit are identical.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from inbox_api.deps import authenticate
from inbox_api.domain import Actor, Inbox
from inbox_api.errors import Forbidden, InboxError, Invalid, NotFound
from inbox_api.routes.conversations import get_conversation, send_reply
from inbox_api.routes.queue import live_queue
from inbox_api.schemas import ReplyIn, TagIn, TemplateRef
from inbox_api.web.i18n import LANGUAGES, translator

HERE = Path(__file__).parent
SESSION_COOKIE = "bandeja_session"
LANG_COOKIE = "bandeja_lang"
router = APIRouter(prefix="/inbox", include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")


class _SignIn(Exception):
    """No valid session: send the browser to the sign-in page."""


def _actor_for(request: Request, token: str | None) -> Actor | None:
    """Analysts read the feed only: the web inbox has nothing for them."""
    actor = authenticate(request, token) if token else None
    return actor if actor is not None and actor.role != "analyst" else None


def _csrf(token: str) -> str:
    return hmac.new(token.encode(), b"bandeja-inbox-csrf", hashlib.sha256).hexdigest()


def _session(request: Request) -> tuple[Inbox, Actor]:
    actor = _actor_for(request, request.cookies.get(SESSION_COOKIE))
    if actor is None:
        raise _SignIn()
    return request.app.state.inbox, actor


def _language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGUAGES else request.app.state.inbox.config.language


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200):
    inbox: Inbox = request.app.state.inbox
    language = _language(request)
    token = request.cookies.get(SESSION_COOKIE)
    tz = inbox.calendar.tz
    now = inbox.store.clock()

    def local(value: dt.datetime | None) -> str:
        if value is None:
            return "—"
        here = value.astimezone(tz)
        fmt = "%H:%M" if here.date() == now.astimezone(tz).date() else "%d/%m %H:%M"
        return here.strftime(fmt)

    def ago(value: dt.datetime | None) -> str:
        if value is None:
            return "—"
        minutes = int((now - value).total_seconds() // 60)
        return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"

    base = {
        "t": translator(language),
        "lang": language,
        "csrf": _csrf(token) if token else "",
        "local": local,
        "ago": ago,
        "now": now,
        "msg": request.query_params.get("msg"),
        "error": request.query_params.get("error"),
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def _back(path: str, *, msg: str | None = None, error: str | None = None) -> RedirectResponse:
    query = f"?error={quote(error)}" if error else f"?msg={quote(msg)}" if msg else ""
    return RedirectResponse(path + query, status_code=303)


# --- sign-in and language ------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return _render(request, "login.html", {})


@router.post("/login")
def login(request: Request, token: Annotated[str, Form(max_length=512)] = "") -> Response:
    token = token.strip()
    if _actor_for(request, token) is None:
        return _render(request, "login.html", {"failed": True}, status=401)
    response = RedirectResponse("/inbox", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/inbox",
        max_age=12 * 3600,
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/inbox/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/inbox")
    return response


@router.get("/lang/{language}")
def set_language(request: Request, language: str) -> Response:
    if language not in LANGUAGES:
        return Response(f"language must be one of {', '.join(LANGUAGES)}", status_code=400)
    back = request.query_params.get("next", "/inbox")
    if not back.startswith("/inbox"):
        back = "/inbox"
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(LANG_COOKIE, language, samesite="strict", path="/inbox", max_age=3e7)
    return response


# --- queue ---------------------------------------------------------------------------------
def _queues(inbox: Inbox, actor: Actor) -> dict[str, list[dict[str, Any]]]:
    everything = actor.role == "admin"
    rows = (
        inbox.store.reader()
        .execute(
            "select c.conversation_id, ct.profile_name, ct.wa_id, c.status, c.assignee_id, "
            "c.team_id, c.topic, c.waiting_since, c.last_message_at, c.tags "
            "from conversations c left join contacts ct using (contact_id) "
            "where c.status <> 'resolved' and (c.assignee_id = ? or (c.assignee_id is null and "
            "(? or c.team_id is null or list_contains(?, c.team_id))))",
            [actor.user_id, everything, list(actor.teams)],
        )
        .fetchall()
    )
    keys = (
        "conversation_id",
        "name",
        "wa_id",
        "status",
        "assignee_id",
        "team_id",
        "topic",
        "waiting_since",
        "last_message_at",
        "tags",
    )
    mine, team, other = [], [], []
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    for row in rows:
        item = dict(zip(keys, row, strict=True))
        waiting = item["waiting_since"]
        item["deadline"] = inbox.sla_deadline(waiting) if waiting else None
        if item["assignee_id"] == actor.user_id:
            (mine if waiting and item["status"] == "open" else other).append(item)
        else:
            team.append(item)
    for items in (mine, team, other):
        items.sort(key=lambda item: (item["deadline"] or far, item["conversation_id"]))
    return {"mine": mine, "team": team, "other": other}


@router.get("", response_class=HTMLResponse)
def queue_page(request: Request) -> Response:
    inbox, actor = _session(request)
    context: dict[str, Any] = {"actor": actor, **_queues(inbox, actor)}
    if actor.role in ("supervisor", "admin"):
        context["live"] = live_queue(inbox, actor)
    return _render(request, "queue.html", context)


# --- one conversation ------------------------------------------------------------------------
@router.get("/c/{conversation_id}", response_class=HTMLResponse)
def conversation_page(request: Request, conversation_id: str) -> Response:
    inbox, actor = _session(request)
    try:
        item = get_conversation(inbox, actor, conversation_id)
    except (NotFound, Forbidden) as exc:
        return _render(request, "error.html", {"actor": actor, "detail": exc.message}, 404)
    reader = inbox.store.reader()
    quick_replies = reader.execute(
        "select quick_reply_id, shortcut, body from quick_replies "
        "where team_id is null or list_contains(?, team_id) or ? order by shortcut",
        [list(actor.teams), actor.role == "admin"],
    ).fetchall()
    approved = reader.execute(
        "select name, language, body, variable_count from templates where status = 'approved' "
        "order by name, language"
    ).fetchall()
    agents = reader.execute(
        "select user_id, name from users where active and role in ('agent', 'supervisor') "
        "order by user_id"
    ).fetchall()
    teams = reader.execute("select team_id, name from teams order by team_id").fetchall()
    return _render(
        request,
        "conversation.html",
        {
            "actor": actor,
            "c": item,
            "quick_replies": quick_replies,
            "templates": approved,
            "agents": agents,
            "teams": teams,
        },
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items()}


@router.post("/c/{conversation_id}/{action}")
async def conversation_action(request: Request, conversation_id: str, action: str) -> Response:
    inbox, actor = _session(request)
    form = await _form(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    if not hmac.compare_digest(form.get("csrf", ""), _csrf(token)):
        return Response("CSRF token missing or wrong; reload the page", status_code=403)
    page = f"/inbox/c/{quote(conversation_id, safe=':')}"
    t = translator(_language(request))
    try:
        target = await _act(inbox, actor, conversation_id, action, form)
    except InboxError as exc:
        return _back(page, error=exc.message)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ()))
        return _back(page, error=f"{field}: {first.get('msg')}" if field else first.get("msg"))
    return _back(target or page, msg=t("done"))


async def _act(
    inbox: Inbox, actor: Actor, conversation_id: str, action: str, form: dict[str, str]
) -> str | None:
    """Perform one form action; returns where to go next (None = back to the conversation)."""
    run = inbox.store.run
    if action == "reply":
        text = form.get("text", "").strip()
        if not text:
            raise Invalid("write a message or pick a quick reply", field="text")
        await send_reply(inbox, actor, conversation_id, ReplyIn(text=text))
        if form.get("quick_reply_id"):
            quick_reply_id = form["quick_reply_id"]
            await run(
                lambda tx: tx.con.execute(
                    "update quick_replies set use_count = use_count + 1 where quick_reply_id = ?",
                    [quick_reply_id],
                )
            )
        return "/inbox"
    if action == "template":
        name, _, language = form.get("template", "").partition("|")
        variables = [line.strip() for line in form.get("variables", "").splitlines()]
        ref = TemplateRef(name=name, language=language, variables=[v for v in variables if v])
        await send_reply(inbox, actor, conversation_id, ReplyIn(template=ref))
        return "/inbox"
    if action == "note":
        body = form.get("body", "").strip()
        if not body:
            raise Invalid("the note is empty", field="body")
        await run(lambda tx: inbox.add_note(tx, actor, conversation_id, body))
    elif action in ("tag", "untag"):
        tag = TagIn(tag=form.get("tag", "").strip()).tag
        await run(lambda tx: inbox.tag(tx, actor, conversation_id, tag, action == "tag"))
    elif action == "lead":
        note = form.get("note", "").strip() or None
        await run(lambda tx: inbox.mark_lead(tx, actor, conversation_id, note))
    elif action == "conversion":
        kind = form.get("kind", "sale")
        if kind not in ("sale", "appointment"):
            raise Invalid("kind must be sale or appointment", field="kind")
        amount = _amount(form.get("amount", ""))

        def convert(tx):
            conversation = inbox.load_for(tx, actor, conversation_id)
            return inbox.record_conversion(
                tx,
                actor,
                contact_id=conversation.contact_id,
                conversation=conversation,
                kind=kind,
                amount=amount,
                currency=None,
                occurred_at=None,
                source="agent",
                external_id=None,
            )

        await run(convert)
    elif action == "transfer":
        target = form.get("target", "")
        kind, _, value = target.partition(":")
        if kind == "team" and value:
            await run(
                lambda tx: inbox.assign(tx, actor, conversation_id, None, value, reason="transfer")
            )
        elif kind == "agent" and value:
            if actor.role == "agent" and value != actor.user_id:
                raise Forbidden("agents may take a conversation or transfer it to a team queue")
            await run(lambda tx: inbox.assign(tx, actor, conversation_id, value, None))
        else:
            raise Invalid("pick a team or an agent", field="target")
        return "/inbox"
    elif action == "take":
        await run(lambda tx: inbox.assign(tx, actor, conversation_id, actor.user_id, None))
    elif action in ("resolve", "reopen"):
        status = "resolved" if action == "resolve" else "open"
        await run(lambda tx: inbox.set_status(tx, actor, conversation_id, status))
        return "/inbox" if status == "resolved" else None
    else:
        raise NotFound(f"unknown action {action!r}")
    return None


def _amount(text: str) -> float | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise Invalid(f"amount {text!r} is not a number", field="amount") from exc
    if not 0 <= value < 1e12:
        raise Invalid("amount must be between 0 and 10^12", field="amount")
    return value


def mount(app: FastAPI) -> None:
    """Add the pages and their static files to the API app."""
    app.include_router(router)
    app.mount("/inbox/static", StaticFiles(directory=HERE / "static"), name="inbox-static")

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        """The server's bare address is where a person lands: send them to the inbox."""
        return RedirectResponse("/inbox", status_code=307)

    @app.exception_handler(_SignIn)
    async def sign_in(_: Request, __: _SignIn) -> Response:
        return RedirectResponse("/inbox/login", status_code=303)
