"""Domain errors: each maps to one HTTP status with a JSON body naming the problem."""

from __future__ import annotations


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
