"""Request and response bodies. Create/Update/Public are separate so internals never leak."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from fastapi import FastAPI
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=4096)]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("must carry a UTC offset, e.g. 2026-11-23T10:00:00Z")
    return value


AwareDatetime = Annotated[dt.datetime, AfterValidator(_aware)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateRef(StrictModel):
    name: Identifier
    language: Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[A-Za-z_\-]+$")]
    variables: list[Annotated[str, Field(min_length=1, max_length=1024)]] = Field(
        default_factory=list, max_length=20
    )


class ReplyIn(StrictModel):
    text: Text | None = None
    template: TemplateRef | None = None
    reply_to: Annotated[str, Field(max_length=256)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ReplyIn:
        if (self.text is None) == (self.template is None):
            raise ValueError("give exactly one of 'text' or 'template'")
        return self


class NoteIn(StrictModel):
    body: Text


class AssignIn(StrictModel):
    agent_id: Identifier | None = None
    team_id: Identifier | None = None
    unassign: bool = False

    @model_validator(mode="after")
    def _something(self) -> AssignIn:
        if self.agent_id is None and self.team_id is None and not self.unassign:
            raise ValueError("give 'agent_id', 'team_id', or 'unassign': true")
        if self.unassign and self.agent_id is not None:
            raise ValueError("'unassign' and 'agent_id' contradict each other")
        return self


class StatusIn(StrictModel):
    status: Literal["open", "pending", "snoozed", "resolved", "reopen"]
    snoozed_until: AwareDatetime | None = None


class TagIn(StrictModel):
    tag: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w\-. ]+$")]


class LeadIn(StrictModel):
    note: Annotated[str, Field(max_length=1024)] | None = None


class ConversionIn(StrictModel):
    kind: Literal["sale", "appointment"]
    amount: Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    occurred_at: AwareDatetime | None = None
    external_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None


class ContactRef(StrictModel):
    contact_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    wa_id: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    bsuid: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    phone: Annotated[str, Field(min_length=1, max_length=32)] | None = None

    @model_validator(mode="after")
    def _one(self) -> ContactRef:
        if not any((self.contact_id, self.wa_id, self.bsuid, self.phone)):
            raise ValueError("give one of contact_id, wa_id, bsuid or phone")
        return self


class ExternalConversionIn(ConversionIn):
    contact: ContactRef


class SurveyIn(StrictModel):
    kind: Literal["csat", "nps"]
    score: Annotated[int, Field(ge=0, le=10)]


class UserCreate(StrictModel):
    id: Identifier
    name: Annotated[str, Field(min_length=1, max_length=128)]
    role: Literal["agent", "supervisor", "admin", "analyst"]
    teams: list[Identifier] = Field(default_factory=list, max_length=50)
    skills: list[Identifier] = Field(default_factory=list, max_length=50)
    capacity: Annotated[int, Field(ge=1, le=1000)] = 8


class UserPublic(BaseModel):
    id: str
    name: str
    role: str
    teams: list[str]
    skills: list[str]
    capacity: int
    active: bool


class UserWithToken(UserPublic):
    token: str = Field(description="Shown once; only its hash is stored.")


class QuickReplyIn(StrictModel):
    shortcut: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^/?[\w\-]+$")]
    body: Text
    team_id: Identifier | None = None


class QuickReplyUse(StrictModel):
    conversation_id: Annotated[str, Field(min_length=1, max_length=256)]


class TemplateIn(StrictModel):
    name: Identifier
    language: Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[A-Za-z_\-]+$")]
    category: Literal["marketing", "utility", "authentication"]
    body: Text
    status: Literal["pending", "approved", "rejected", "paused", "disabled"] = "pending"

    @property
    def variable_count(self) -> int:
        return len(set(re.findall(r"\{\{(\d+)\}\}", self.body)))


class ErrorOut(BaseModel):
    detail: str
    code: str
    field: str | None = None


_NULLABLE_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "field": _NULLABLE_STRING,
    },
}
_VALIDATION_ERROR_SCHEMA = {
    **_ERROR_SCHEMA,
    "properties": {
        **_ERROR_SCHEMA["properties"],
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["message"],
                "properties": {"field": _NULLABLE_STRING, "message": {"type": "string"}},
            },
        },
    },
}
_ERROR_STATUSES = {
    400: "Bad request",
    401: "Missing or invalid bearer token",
    403: "The caller's role may not do this",
    404: "Not found",
    409: "Conflicts with the current state (the detail names the rule)",
    413: "Body too large",
    415: "Unsupported Content-Type",
    422: "Invalid input: `field` names the first bad field, `errors` all of them",
    502: "The WhatsApp channel refused or failed the send",
}
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


def document_errors(app: FastAPI) -> None:
    """Declare in the OpenAPI schema the JSON error bodies the error handlers really send.

    Every operation gets the error statuses it does not declare itself, and FastAPI's default
    422 body (a list under `detail`) is replaced by ours. Idempotent.
    """
    if getattr(app, "_errors_documented", False):
        return
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorOut"] = _ERROR_SCHEMA
        components["ValidationErrorOut"] = _VALIDATION_ERROR_SCHEMA
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in _ERROR_STATUSES.items():
                    current = responses.get(str(status))
                    if current is not None and _FASTAPI_422 not in str(current):
                        continue
                    name = "ValidationErrorOut" if status == 422 else "ErrorOut"
                    responses[str(status)] = {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                        },
                    }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    app._errors_documented = True  # type: ignore[attr-defined]
    app.openapi_schema = None
