"""Domain errors: each maps to one HTTP status with a JSON body naming the problem."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException


class InboxError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(InboxError):
    status_code = 404
    code = "not_found"


class Forbidden(InboxError):
    status_code = 403
    code = "forbidden"


class Conflict(InboxError):
    status_code = 409
    code = "conflict"


class Invalid(InboxError):
    status_code = 422
    code = "invalid"


class ChannelFailed(InboxError):
    status_code = 502
    code = "channel_error"


async def _http_error(_: Request, exc: HTTPException) -> JSONResponse:
    """Framework errors (unparseable body, unknown route, wrong method) in our error shape."""
    return JSONResponse(
        {"detail": str(exc.detail), "code": f"http_{exc.status_code}", "field": None},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def install_http_error_handler(app: FastAPI) -> None:
    """Call from `create_app`: every error body then matches `ErrorOut` (detail, code, field)."""
    app.add_exception_handler(HTTPException, _http_error)
