"""The inbox API's live queue (`GET /v1/queue/live`), fetched with a supervisor token."""

from __future__ import annotations

from typing import Any

import httpx

AGE_BUCKETS = ("<5m", "5-10m", "10-20m", "20-60m", "1-4h", ">4h")


class LiveQueueUnavailable(RuntimeError):
    """The API could not be reached or answered with something other than the live queue."""


def fetch_live_queue(api_url: str, token: str, timeout: float = 3.0) -> dict[str, Any]:
    url = api_url.rstrip("/") + "/v1/queue/live"
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
    except httpx.HTTPError as exc:
        raise LiveQueueUnavailable(f"cannot reach {url} ({type(exc).__name__})") from exc
    if response.status_code != 200:
        raise LiveQueueUnavailable(f"{url} answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise LiveQueueUnavailable(f"{url} did not answer JSON") from exc
    if not isinstance(body, dict) or not isinstance(body.get("totals"), dict):
        raise LiveQueueUnavailable(f"{url} answered without 'totals'")
    return body
