"""The webhook journal: raw bodies made durable first, acknowledged, then applied.

WhatsApp's advice (and ARCHITECTURE.md's rule) is to persist the raw body, answer 200 and do
everything else in a worker. The journal is that first step: its own thread and its own
connection to `inbox.duckdb` (same process, so still one writer per file) group-commit raw
bodies into `raw_webhooks` and nothing else, so an acknowledgement waits for one small insert
and a commit, never for routing, auto-replies or state updates.

Once a batch of bodies is committed, each accepted delivery is handed to the `EventStore`
writer, in `webhook_id` order, as a command that applies it and records a row in
`webhook_outcomes` in the same transaction. So "applied" is exact: a body is applied at most
once, and one acknowledged but not yet applied (a crash in between) is applied at the next
start-up by `recover`, before the API serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from inbox_api.store.state import conversation_id_for
from inbox_api.store.writer import EventStore, Hints, Tx, claimed_batches, stop_worker
from inbox_api.whatsapp.parse import InboundMessage, PayloadError, StatusUpdate, parse_webhook

log = logging.getLogger(__name__)

ACCEPTED = "accepted"
REJECTED = "rejected"


@dataclasses.dataclass(slots=True)
class Delivery:
    """One webhook POST, verified and parsed by the caller.

    `updates` is what the body parsed to (None when it did not parse: `reason` says why, and the
    body goes to `dead_letters` as well, unapplied).
    """

    body: bytes
    sha256: str
    updates: list[Any] | None
    reason: str | None = None
    hints: Hints | None = None


def read_delivery(body: bytes) -> Delivery:
    """Parse a verified body: its updates and the rows applying them will read, or why not.

    Parsing costs microseconds, so it happens before the acknowledgement: a body that is not
    JSON or not a WhatsApp webhook is answered 400 (and kept as a dead letter), never accepted.
    """
    sha256 = hashlib.sha256(body).hexdigest()
    try:
        updates = parse_webhook(orjson.loads(body))
    except orjson.JSONDecodeError as exc:
        return Delivery(body, sha256, None, f"malformed JSON: {exc}")
    except PayloadError as exc:
        return Delivery(body, sha256, None, str(exc))
    hints = Hints()
    for update in updates:
        if isinstance(update, InboundMessage):
            hints.event_ids.append(f"msg:{update.message_id}")
            hints.contact_ids.append(update.contact_id)
            hints.conversation_ids.append(conversation_id_for(update.inbox_id, update.contact_id))
            hints.message_ids.append(update.message_id)
        elif isinstance(update, StatusUpdate):
            hints.message_ids.append(update.message_id)
    return Delivery(body, sha256, updates, hints=hints)


# Builds the writer command that applies one committed delivery.
Applier = Callable[[int, Delivery], Callable[[Tx], Any]]


class _Item:
    __slots__ = ("delivery", "future")

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.future: Future[int] = Future()


class WebhookJournal:
    def __init__(self, store: EventStore, apply: Applier, *, max_batch: int = 2000) -> None:
        self.store = store
        self.apply = apply
        self.max_batch = max_batch
        # A second connection to the same database: its transactions run beside the writer's
        # (DuckDB serialises only conflicting rows; these tables are append-only).
        self._con = store.journal_connection()
        self._next_id = self._scalar("select coalesce(max(webhook_id), 0) + 1 from raw_webhooks")
        # Accepted bodies handed to the writer and applied by it, since start-up: the difference
        # is the backlog `/health` reports.
        self.handed_over = 0
        self.applied = 0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="webhook-journal", daemon=True)
        self._thread.start()

    def _scalar(self, sql: str) -> Any:
        return self._con.execute(sql).fetchall()[0][0]

    @property
    def pending(self) -> int:
        """Bodies acknowledged and not yet applied."""
        return self.handed_over - self.applied

    def _hand_over(self, webhook_id: int, delivery: Delivery) -> Future:
        command = self.apply(webhook_id, delivery)

        def apply(tx: Tx) -> Any:
            result = command(tx)
            tx.after_commit(self._count_applied)
            return result

        self.handed_over += 1
        return self.store.submit(apply, delivery.hints)

    def _count_applied(self) -> None:
        self.applied += 1

    # api -------------------------------------------------------------------------------
    def submit(self, delivery: Delivery) -> Future[int]:
        item = _Item(delivery)
        self._queue.put(item)
        return item.future

    async def record(self, delivery: Delivery) -> int:
        """Commit the raw body (and its dead letter if it did not parse); returns its id."""
        return await asyncio.wrap_future(self.submit(delivery))

    def recover(self) -> int:
        """Apply the bodies acknowledged but not applied before a crash; returns how many.

        Blocks until they are committed, so the API serves only after its backlog is applied.
        """
        rows = self._con.execute(
            "select webhook_id, body_sha256, body from raw_webhooks "
            "where outcome = ? and webhook_id not in (select webhook_id from webhook_outcomes) "
            "order by webhook_id",
            [ACCEPTED],
        ).fetchall()
        futures = []
        for webhook_id, _, body in rows:
            # A body that parsed when accepted but no longer does (a parser change) reaches the
            # applier with its reason, which dead-letters it: never dropped.
            delivery = read_delivery(bytes(body))
            futures.append(self._hand_over(webhook_id, delivery))
        for future in futures:
            future.result()
        if rows:
            log.warning("applied %d webhook bodies acknowledged before a restart", len(rows))
        return len(rows)

    def close(self) -> None:
        stop_worker(self._queue, self._thread, self._con)

    # thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        for batch in claimed_batches(self._queue, self.max_batch):
            self._commit(batch)

    def _commit(self, batch: list[_Item]) -> None:
        now = self.store.clock()
        first = self._next_id
        ids = list(range(first, first + len(batch)))
        rejected = [(i, item) for i, item in zip(ids, batch, strict=True) if item.delivery.reason]
        raw = pa.table(  # read by the SQL below (a DuckDB replacement scan)
            {
                "webhook_id": pa.array(ids, pa.int64()),
                "received_at": pa.array([now] * len(batch), pa.timestamp("us", tz="UTC")),
                "body_sha256": [item.delivery.sha256 for item in batch],
                "body": pa.array([item.delivery.body for item in batch], pa.binary()),
                "outcome": [REJECTED if item.delivery.reason else ACCEPTED for item in batch],
            }
        )
        con = self._con
        try:
            if not rejected:  # the usual case: one statement, its own transaction
                con.execute("insert into raw_webhooks select * from raw")
            else:
                self._commit_with_dead_letters(raw, now, rejected)
        except Exception as exc:
            log.exception("webhook journal commit failed")
            for item in batch:
                item.future.set_exception(exc)
            return
        self._next_id += len(batch)
        # Hand over in id order before answering: a request that follows the acknowledgement
        # through the writer (a reply, an assignment) is queued after the delivery it follows.
        for webhook_id, item in zip(ids, batch, strict=True):
            if item.delivery.reason is None:
                self._hand_over(webhook_id, item.delivery)
        for webhook_id, item in zip(ids, batch, strict=True):
            item.future.set_result(webhook_id)

    def _commit_with_dead_letters(
        self, raw: pa.Table, now: Any, rejected: list[tuple[int, _Item]]
    ) -> None:
        """Bodies that did not parse go to `dead_letters` too, in the same transaction."""
        dead = pa.table(  # noqa: F841 (read by the SQL below, as is `raw`)
            {
                "webhook_id": pa.array([i for i, _ in rejected], pa.int64()),
                "received_at": pa.array([now] * len(rejected), pa.timestamp("us", tz="UTC")),
                "reason": [item.delivery.reason for _, item in rejected],
                "body": pa.array([item.delivery.body for _, item in rejected], pa.binary()),
            }
        )
        con = self._con
        try:
            con.execute("begin")
            con.execute("insert into raw_webhooks select * from raw")
            con.execute("insert into dead_letters select * from dead")
            con.execute("commit")
        except Exception:
            with contextlib.suppress(duckdb.Error):
                con.execute("rollback")
            raise
