"""Outgoing alert webhooks: escalations POSTed to configured URLs, signed, retried, never blocking.

Each delivery is a JSON body signed with HMAC-SHA256 of the exact bytes under the hook's secret,
sent as `X-Bandeja-Signature: sha256=<hex>` (the same scheme WhatsApp uses towards us), with
`X-Bandeja-Delivery` as an idempotency key for the receiver. Alerts wait in a bounded queue served
by one background task; a full queue drops the newest alert with a log line rather than slow the
inbox. A failed POST (network error, 5xx, 429) is retried with exponential back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson

from ingest.config import AlertWebhookConfig

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Bandeja-Signature"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class AlertNotifier:
    def __init__(
        self,
        hooks: list[AlertWebhookConfig],
        *,
        max_queue: int = 1000,
        attempts: int = 5,
        base_delay: float = 0.5,
        timeout: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.hooks = hooks
        self.attempts = attempts
        self.base_delay = base_delay
        self.timeout = timeout
        self._sleep = sleep
        self._queue: asyncio.Queue[tuple[AlertWebhookConfig, bytes, str]] = asyncio.Queue(max_queue)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self.delivered = 0
        self.failed = 0
        self.dropped = 0

    def start(self) -> None:
        """Start the delivery task; call from code running on the event loop."""
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._worker(), name="alert-webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def publish(self, alert: dict[str, Any]) -> None:
        """Queue an alert for every hook that wants its level; safe from any thread."""
        if not self.hooks or self._loop is None or self._loop.is_closed():
            return
        body = orjson.dumps(alert, option=orjson.OPT_UTC_Z)
        for hook in self.hooks:
            if alert.get("level") in hook.levels:
                self._loop.call_soon_threadsafe(self._enqueue, hook, body)

    def _enqueue(self, hook: AlertWebhookConfig, body: bytes) -> None:
        try:
            self._queue.put_nowait((hook, body, uuid.uuid4().hex))
        except asyncio.QueueFull:
            self.dropped += 1
            log.error("alert webhook queue full: alert for %s dropped", hook.url)

    async def join(self) -> None:
        """Wait until every queued alert was delivered or given up (tests, shutdown)."""
        await self._queue.join()

    async def _worker(self) -> None:
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            while True:
                hook, body, delivery = await self._queue.get()
                try:
                    await self._deliver(client, hook, body, delivery)
                finally:
                    self._queue.task_done()

    async def _deliver(
        self, client: httpx.AsyncClient, hook: AlertWebhookConfig, body: bytes, delivery: str
    ) -> None:
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, hook.secret),
            "X-Bandeja-Delivery": delivery,
        }
        for attempt in range(self.attempts):
            try:
                response = await client.post(hook.url, content=body, headers=headers)
                if response.status_code < 300:
                    self.delivered += 1
                    return
                if response.status_code < 500 and response.status_code != 429:
                    self.failed += 1
                    log.error("alert webhook %s refused: %s", hook.url, response.status_code)
                    return
                reason = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                reason = exc.__class__.__name__
            if attempt + 1 < self.attempts:
                delay = self.base_delay * 2**attempt
                log.warning("alert webhook %s failed (%s); retry in %.1fs", hook.url, reason, delay)
                await self._sleep(delay)
        self.failed += 1
        log.error("alert webhook %s gave up after %d attempts", hook.url, self.attempts)
