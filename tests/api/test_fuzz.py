"""Schemathesis fuzzes the app's own OpenAPI schema over HTTP against the app served by uvicorn:
no 5xx, responses conform to the schema."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as openapi_checks
from served import serve

from inbox_api.app import create_app

from .kit import ADMIN_TOKEN, Clock, auth, make_settings

# The schema is read at collection time, so the app object exists then; its store opens only
# when the server starts (the fixture below), in a directory removed afterwards.
_DATA_DIR = Path(tempfile.mkdtemp(prefix="bandeja-fuzz-"))
_APP = create_app(make_settings(_DATA_DIR), clock=Clock())


@schemathesis.serializer("application/x-ndjson", "application/vnd.apache.parquet")
def _raw_body(ctx: object, value: object) -> bytes:
    """Import bodies are opaque text or bytes in the schema: send them as they are."""
    if isinstance(value, bytes):
        return value
    return str(value).encode()


schema = schemathesis.openapi.from_dict(_APP.openapi())


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    try:
        with serve(_APP) as base:
            yield base
    finally:
        shutil.rmtree(_DATA_DIR, ignore_errors=True)


CHECKS = [
    not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_conforms_to_its_own_schema(case: schemathesis.Case, base_url: str) -> None:
    # Server errors and response conformance. Not the request-strictness checks: cross-field
    # rules (e.g. "text or template") cannot be said in JSON Schema, so valid-looking requests
    # are rightly refused with a 422 that names the rule.
    case.call_and_validate(base_url=base_url, headers=auth(ADMIN_TOKEN), checks=CHECKS)
