"""History mode: load generated (or any) events through the API's bulk import, in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import httpx
import orjson

MAX_BATCH = 50_000


class ImportFailed(RuntimeError):
    """The API refused a batch; the message carries its report of bad rows."""


@dataclass
class ImportResult:
    batches: int = 0
    accepted: int = 0
    duplicates: int = 0


def _batches(events: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(events)
    while batch := list(islice(iterator, size)):
        yield batch


def to_ndjson(events: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(event) + b"\n" for event in events)


def import_events(
    events: Iterable[dict[str, Any]],
    client: httpx.Client,
    token: str,
    batch_size: int = 5_000,
    progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """POST events as NDJSON batches to /v1/import/events; stops at the first refused batch."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be 1-{MAX_BATCH}")
    result = ImportResult()
    for batch in _batches(events, batch_size):
        response = client.post(
            "/v1/import/events",
            content=to_ndjson(batch),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/x-ndjson",
            },
        )
        if response.status_code != 200:
            raise ImportFailed(_explain(response, result.batches + 1, batch))
        body = response.json()
        result.batches += 1
        result.accepted += int(body.get("accepted", 0))
        result.duplicates += int(body.get("duplicates", 0))
        if progress:
            progress(result)
    return result


def _explain(response: httpx.Response, number: int, batch: list[dict[str, Any]]) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"batch {number}: HTTP {response.status_code}: {response.text[:300]}"
    lines = [f"batch {number}: HTTP {response.status_code}: {body.get('detail')}"]
    for error in (body.get("errors") or [])[:20]:
        row = error.get("row")
        event_id = (
            batch[row - 1].get("event_id") if isinstance(row, int) and row <= len(batch) else "?"
        )
        lines.append(f"  row {row} ({event_id}) {error.get('field')}: {error.get('message')}")
    return "\n".join(lines)
