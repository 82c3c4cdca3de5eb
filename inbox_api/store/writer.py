"""The single writer of `inbox.duckdb`: group commit over a queue of commands.

Every change is a command (a function of a `Tx`) run on one writer thread. Commands that arrive
while a batch commits wait in the queue and are committed together, so one fsync covers many
requests. A command's effects are staged in memory and merged into the batch only when it
returns; a command that raises leaves nothing behind. A request is answered only after its batch
committed, so an acknowledged write survives `kill -9`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import itertools
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import orjson
import pyarrow as pa

from inbox_api.store.schema import migrate
from inbox_api.store.state import (
    CONTACT_COLUMNS,
    CONVERSATION_COLUMNS,
    MESSAGE_STATE_COLUMNS,
    Contact,
    Conversation,
    MessageState,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Clock = Callable[[], dt.datetime]

EVENT_COLUMNS = [
    "seq",
    "event_id",
    "event_type",
    "occurred_at",
    "recorded_at",
    "inbox_id",
    "conversation_id",
    "contact_id",
    "actor_kind",
    "actor_id",
    "payload",
]
_TS = pa.timestamp("us", tz="UTC")
EVENT_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("occurred_at", _TS),
        ("recorded_at", _TS),
        ("inbox_id", pa.string()),
        ("conversation_id", pa.string()),
        ("contact_id", pa.string()),
        ("actor_kind", pa.string()),
        ("actor_id", pa.string()),
        ("payload", pa.string()),
    ]
)

OUTCOME_SCHEMA = pa.schema(
    [
        ("webhook_id", pa.int64()),
        ("applied_at", _TS),
        ("new_messages", pa.int32()),
        ("duplicates", pa.int32()),
        ("statuses", pa.int32()),
        ("error", pa.string()),
    ]
)


# Committed contacts and conversations the writer keeps in memory, so a steady stream of
# messages from known contacts reads no rows; beyond this the oldest entries are dropped.
CACHE_LIMIT = 200_000
CHECKPOINT_THRESHOLD = "256MB"
# Keys per `IN (...)` lookup: DuckDB answers an IN list through the ART index.
_LOOKUP_CHUNK = 256


ACTIVE_STATUSES = ("open", "pending", "snoozed")


def _counts_as_open(conversation: Conversation) -> bool:
    return conversation.assignee_id is not None and conversation.status in ACTIVE_STATUSES


def _add_counts(into: dict[str, int], delta: dict[str, int]) -> None:
    for key, value in delta.items():
        into[key] = into.get(key, 0) + value


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(slots=True)
class Hints:
    """Keys a command will read, known before it runs (e.g. from a parsed webhook).

    The writer looks them up for the whole batch in one indexed query per table instead of
    one point query per command. Hints only speed reads up: a key not hinted is read as before.
    """

    event_ids: list[str] = dataclasses.field(default_factory=list)
    contact_ids: list[str] = dataclasses.field(default_factory=list)
    conversation_ids: list[str] = dataclasses.field(default_factory=list)
    message_ids: list[str] = dataclasses.field(default_factory=list)


class _Staging:
    __slots__ = (
        "contacts",
        "conversations",
        "dead_letters",
        "deferred",
        "event_ids",
        "events",
        "messages",
        "open_delta",
        "orphans",
        "outcomes",
        "parent",
    )

    def __init__(self, parent: _Staging | None = None) -> None:
        self.parent = parent
        self.events: list[dict[str, Any]] = []
        self.event_ids: set[str] = set()
        self.conversations: dict[str, Conversation] = {}
        self.contacts: dict[str, Contact] = {}
        self.messages: dict[str, MessageState] = {}
        self.outcomes: list[tuple] = []
        self.dead_letters: list[tuple] = []
        self.orphans: list[tuple] = []
        self.deferred: list[Callable[[], None]] = []
        # Change in active conversations per assignee that this unit of work makes.
        self.open_delta: dict[str, int] = {}

    def merge(self, other: _Staging) -> None:
        self.events.extend(other.events)
        self.event_ids |= other.event_ids
        self.conversations.update(other.conversations)
        self.contacts.update(other.contacts)
        self.messages.update(other.messages)
        self.outcomes.extend(other.outcomes)
        self.dead_letters.extend(other.dead_letters)
        self.orphans.extend(other.orphans)
        self.deferred.extend(other.deferred)
        _add_counts(self.open_delta, other.open_delta)


class Tx:
    """What a command sees: staged reads and writes over the committed state."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        # Commands read through a per-batch memo; replacement scans of local Arrow tables (the
        # flush, `known_event_ids`) need the raw connection, which sees the caller's frame.
        self.con = _BatchReads(store._con)
        self._raw = store._con
        self.now = store.clock()
        self._batch = _Staging()
        self._cmd = self._batch
        # Answers looked up for the batch's hints: key -> present (events) or row or None.
        self._seen_events: dict[str, bool] = {}
        self._seen_contacts: dict[str, Contact | None] = {}
        self._seen_conversations: dict[str, Conversation | None] = {}
        self._seen_messages: dict[str, MessageState | None] = {}

    def _lookup(self, sql: str, keys: set[str]) -> list[tuple]:
        rows: list[tuple] = []
        ordered = sorted(keys)
        for start in range(0, len(ordered), _LOOKUP_CHUNK):
            chunk = ordered[start : start + _LOOKUP_CHUNK]
            placeholders = ", ".join("?" * len(chunk))
            rows.extend(self.con.execute(sql.format(placeholders), chunk).fetchall())
        return rows

    def prefetch(self, hints: list[Hints]) -> None:
        """Read every hinted key of the batch at once (the committed state, before the batch)."""
        store = self.store
        event_ids = {key for hint in hints for key in hint.event_ids}
        if event_ids:
            self._seen_events = dict.fromkeys(event_ids, False)
            for (event_id,) in self._lookup(
                "select event_id from events where event_id in ({})", event_ids
            ):
                self._seen_events[event_id] = True
        contact_ids = {key for hint in hints for key in hint.contact_ids}
        contact_ids -= store._contacts.keys()
        if contact_ids:
            self._seen_contacts = dict.fromkeys(contact_ids)
            for row in self._lookup(
                f"select {', '.join(CONTACT_COLUMNS)} from contacts where contact_id in ({{}})",
                contact_ids,
            ):
                self._seen_contacts[row[0]] = store._remember_contact(Contact(*row))
        conversation_ids = {key for hint in hints for key in hint.conversation_ids}
        conversation_ids -= store._conversations.keys()
        if conversation_ids:
            self._seen_conversations = dict.fromkeys(conversation_ids)
            for row in self._lookup(
                f"select {', '.join(CONVERSATION_COLUMNS)} from conversations "
                "where conversation_id in ({})",
                conversation_ids,
            ):
                self._seen_conversations[row[0]] = store._remember_conversation(Conversation(*row))
            store._absent_conversations = {
                key for key, found in self._seen_conversations.items() if found is None
            }
        message_ids = {key for hint in hints for key in hint.message_ids}
        if message_ids:
            self._seen_messages = dict.fromkeys(message_ids)
            for row in self._lookup(
                f"select {', '.join(MESSAGE_STATE_COLUMNS)} from message_state "
                "where message_id in ({})",
                message_ids,
            ):
                self._seen_messages[row[0]] = MessageState(*row)

    @contextlib.contextmanager
    def command(self) -> Iterator[None]:
        """Stage a unit of work: merged into the enclosing one on success, discarded on error.

        Nestable, so a command can try a step and keep what it did before it (a webhook keeps
        its raw body even when applying the body fails).
        """
        parent = self._cmd
        self._cmd = _Staging(parent)
        try:
            yield
        except BaseException:
            self._cmd = parent
            raise
        parent.merge(self._cmd)
        self._cmd = parent

    def _stack(self) -> list[_Staging]:
        """Innermost staging first; nested commands keep a parent link."""
        stack, staging = [], self._cmd
        while staging is not None:
            stack.append(staging)
            staging = staging.parent
        return stack

    # events -----------------------------------------------------------------------------
    def has_event(self, event_id: str) -> bool:
        if any(event_id in staging.event_ids for staging in self._stack()):
            return True
        seen = self._seen_events.get(event_id)
        if seen is not None:
            return seen
        return bool(
            self.con.execute("select 1 from events where event_id = ?", [event_id]).fetchall()
        )

    def known_event_ids(self, event_ids: list[str]) -> set[str]:
        stack = self._stack()
        staged = {e for e in event_ids if any(e in staging.event_ids for staging in stack)}
        if not event_ids:
            return staged
        ids = pa.table({"event_id": pa.array(event_ids, pa.string())})  # noqa: F841 (used by SQL)
        rows = self._raw.execute(
            "select events.event_id from events join ids using (event_id)"
        ).fetchall()
        return staged | {row[0] for row in rows}

    def event(
        self,
        event_type: str,
        *,
        payload: dict[str, Any],
        actor_kind: str,
        actor_id: str | None = None,
        occurred_at: dt.datetime | None = None,
        inbox_id: str | None = None,
        conversation_id: str | None = None,
        contact_id: str | None = None,
        event_id: str | None = None,
    ) -> str:
        event_id = event_id or f"{event_type}:{self.store.new_id()}"
        self._cmd.events.append(
            {
                "event_id": event_id,
                "event_type": event_type,
                "occurred_at": occurred_at or self.now,
                "inbox_id": inbox_id,
                "conversation_id": conversation_id,
                "contact_id": contact_id,
                "actor_kind": actor_kind,
                "actor_id": actor_id,
                "payload": orjson.dumps(payload, default=_json_default).decode(),
            }
        )
        self._cmd.event_ids.add(event_id)
        return event_id

    # state ------------------------------------------------------------------------------
    def conversation(self, conversation_id: str) -> Conversation | None:
        for staging in self._stack():
            if conversation_id in staging.conversations:
                return staging.conversations[conversation_id].copy()
        if conversation_id in self._seen_conversations:
            found = self._seen_conversations[conversation_id]
            return found.copy() if found else None
        found = self.store._conversation(conversation_id)
        return found.copy() if found else None

    def put_conversation(self, conversation: Conversation) -> None:
        conversation.updated_at = self.now
        previous = self.conversation(conversation.conversation_id)
        delta = self._cmd.open_delta
        if previous is not None and _counts_as_open(previous):
            delta[previous.assignee_id] = delta.get(previous.assignee_id, 0) - 1
        if _counts_as_open(conversation):
            delta[conversation.assignee_id] = delta.get(conversation.assignee_id, 0) + 1
        self._cmd.conversations[conversation.conversation_id] = conversation.copy()

    def open_counts(self) -> dict[str, int]:
        """Active (open, pending, snoozed) conversations per assignee, staged changes included."""
        counts = dict(self.store._open_counts)
        for staging in self._stack():
            _add_counts(counts, staging.open_delta)
        return counts

    def contact(self, contact_id: str) -> Contact | None:
        for staging in self._stack():
            if contact_id in staging.contacts:
                return staging.contacts[contact_id]
        cached = self.store._contacts.get(contact_id)
        if cached is not None:
            return cached
        if contact_id in self._seen_contacts:
            return self._seen_contacts[contact_id]
        rows = self.con.execute(
            f"select {', '.join(CONTACT_COLUMNS)} from contacts where contact_id = ?",
            [contact_id],
        ).fetchall()
        return self.store._remember_contact(Contact(*rows[0])) if rows else None

    def put_contact(self, contact: Contact) -> None:
        self._cmd.contacts[contact.contact_id] = contact

    def message_state(self, message_id: str) -> MessageState | None:
        for staging in self._stack():
            if message_id in staging.messages:
                return staging.messages[message_id]
        if message_id in self._seen_messages:
            return self._seen_messages[message_id]
        rows = self.con.execute(
            f"select {', '.join(MESSAGE_STATE_COLUMNS)} from message_state where message_id = ?",
            [message_id],
        ).fetchall()
        return MessageState(*rows[0]) if rows else None

    def put_message_state(self, state: MessageState) -> None:
        self._cmd.messages[state.message_id] = state

    def webhook_outcome(self, outcome: Any) -> None:
        """Mark a journaled webhook applied (with what it did), in this command's transaction."""
        self._cmd.outcomes.append(
            (
                outcome.webhook_id,
                self.now,
                outcome.new_messages,
                outcome.duplicates,
                outcome.statuses,
                outcome.error,
            )
        )

    def dead_letter(self, webhook_id: int, reason: str, body: bytes) -> None:
        self._cmd.dead_letters.append((webhook_id, self.now, reason, body))

    def take_orphan_statuses(self, message_id: str) -> list[tuple[str, dt.datetime, dict]]:
        """Statuses that arrived before their message was recorded, removed from the parking lot.

        Every outbound message asks; almost none has any, so the in-memory id set answers first.
        """
        if message_id not in self.store._orphan_ids:
            return []
        rows = self.con.execute(
            "select status, occurred_at, payload from orphan_statuses where message_id = ? "
            "order by occurred_at",
            [message_id],
        ).fetchall()
        if rows:
            self.con.execute("delete from orphan_statuses where message_id = ?", [message_id])
        return [(status, at, orjson.loads(payload)) for status, at, payload in rows]

    def orphan_status(self, message_id: str, status: str, occurred_at: dt.datetime, payload: dict):
        self._cmd.orphans.append(
            (message_id, status, occurred_at, orjson.dumps(payload, default=_json_default).decode())
        )

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run once the batch is durable (notify, wake the router); never inside the transaction."""
        self._cmd.deferred.append(callback)

    # flush ------------------------------------------------------------------------------
    def _flush(self) -> None:
        batch = self._batch
        con = self._raw
        if batch.outcomes:
            outcomes = pa.table(  # noqa: F841 (read by the SQL below)
                list(zip(*batch.outcomes, strict=True)),
                schema=OUTCOME_SCHEMA,
            )
            con.execute("insert into webhook_outcomes select * from outcomes")
        if batch.dead_letters:
            dead = pa.table(  # noqa: F841
                list(zip(*batch.dead_letters, strict=True)),
                names=["webhook_id", "received_at", "reason", "body"],
            )
            con.execute("insert into dead_letters select * from dead")
        if batch.orphans:
            orphans = pa.table(  # noqa: F841
                list(zip(*batch.orphans, strict=True)),
                names=["message_id", "status", "occurred_at", "payload"],
            )
            con.execute("insert into orphan_statuses select * from orphans")
            self.store._orphan_ids.update(row[0] for row in batch.orphans)
        if batch.events:
            seq = self.store._next_seq
            for event in batch.events:
                event["seq"] = seq
                event["recorded_at"] = self.now
                seq += 1
            staged_events = pa.Table.from_pylist(batch.events, schema=EVENT_SCHEMA)  # noqa: F841
            con.execute(f"insert into events select {', '.join(EVENT_COLUMNS)} from staged_events")
        absent = self.store._absent_conversations
        committed = self.store._conversation

        def tags_changed(conversation: Conversation) -> bool:
            before = committed(conversation.conversation_id)
            return before is None or before.tags != conversation.tags

        _upsert(
            con,
            "conversations",
            CONVERSATION_COLUMNS,
            batch.conversations,
            absent.__contains__,
            list_changed=tags_changed,
        )
        _upsert(con, "contacts", CONTACT_COLUMNS, batch.contacts, _is_none(self._seen_contacts))
        _upsert(
            con,
            "message_state",
            MESSAGE_STATE_COLUMNS,
            batch.messages,
            _is_none(self._seen_messages),
        )


def _is_none(seen: dict[str, Any]) -> Callable[[str], bool]:
    """Keys the batch's prefetch looked up and did not find: rows known to be new."""
    return lambda key: key in seen and seen[key] is None


def _upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[str],
    rows: dict[str, Any],
    is_new: Callable[[str], bool],
    *,
    list_changed: Callable[[Any], bool] | None = None,
) -> None:
    """Plain inserts for new rows, in-place updates for the others.

    Rows the batch's prefetch saw missing are new; the rest are checked with one indexed lookup.

    DuckDB's insert-or-replace deletes and re-inserts the row and its index entry; an UPDATE of
    the non-key columns costs about half. List columns are the dearest to update, so a table that
    has one (conversation tags) names, through `list_changed`, the rows whose list moved.
    """
    if not rows:
        return
    key = columns[0]
    maybe = [row_key for row_key in rows if not is_new(row_key)]
    existing: set[str] = set()
    for start in range(0, len(maybe), _LOOKUP_CHUNK):
        chunk = maybe[start : start + _LOOKUP_CHUNK]
        marks = ", ".join("?" * len(chunk))
        found = con.execute(f"select {key} from {table} where {key} in ({marks})", chunk)
        existing.update(row[0] for row in found.fetchall())
    new, other = [], []
    for row_key, row in rows.items():
        (other if row_key in existing else new).append(row)
    names = ", ".join(columns)
    if new:
        staged = _arrow(new, columns)
        con.execute(f"insert into {table} ({names}) select {names} from staged")
    if not other:
        return
    values = columns[1:]
    lists = {"tags"} if list_changed is not None else set()
    scalars = [column for column in values if column not in lists]
    staged = _arrow(other, [key, *scalars])
    assignments = ", ".join(f"{column} = staged.{column}" for column in scalars)
    con.execute(f"update {table} set {assignments} from staged where {table}.{key} = staged.{key}")
    moved = [row for row in other if list_changed is not None and list_changed(row)]
    if moved:
        staged = _arrow(moved, [key, *lists])  # noqa: F841
        assignments = ", ".join(f"{column} = staged.{column}" for column in sorted(lists))
        con.execute(
            f"update {table} set {assignments} from staged where {table}.{key} = staged.{key}"
        )


def _arrow(rows: list[Any], columns: list[str]) -> pa.Table:
    return pa.table({column: [getattr(row, column) for row in rows] for column in columns})


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class _Rows:
    """A memoised result: the fetch methods commands use on a DuckDB result."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[tuple]) -> None:
        self._rows = rows

    def fetchall(self) -> list[tuple]:
        return list(self._rows)

    def fetchone(self) -> tuple | None:
        return self._rows[0] if self._rows else None


class _BatchReads:
    """The writer's connection as commands see it, with SELECTs memoised for one batch.

    Inside a batch the database changes only through statements run here (staged rows are
    flushed after the last command), so an identical SELECT gives the identical answer until
    some other statement runs; any non-SELECT clears the memo. Hooks that re-read the same small
    tables for every message of a batch (agents, teams, open counts) then query once per batch.
    """

    __slots__ = ("_con", "_memo")

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._memo: dict[tuple, list[tuple]] = {}

    def execute(self, sql: str, parameters: Any = None) -> Any:
        if sql.lstrip()[:6].lower() != "select":
            self._memo.clear()
            return self._con.execute(sql, parameters)
        key = (sql, _freeze(parameters))
        rows = self._memo.get(key)
        if rows is None:
            rows = self._memo[key] = self._con.execute(sql, parameters).fetchall()
        return _Rows(rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _freeze(item)) for key, item in value.items()))
    return value


def _trim(cache: dict) -> None:
    """Keep a cache under CACHE_LIMIT by dropping its oldest tenth (dicts keep insertion order)."""
    if len(cache) > CACHE_LIMIT:
        for key in list(itertools.islice(cache, CACHE_LIMIT // 10)):
            del cache[key]


class _Item:
    __slots__ = ("fn", "future", "hints")

    def __init__(self, fn: Callable[[Tx], Any], hints: Hints | None) -> None:
        self.fn = fn
        self.hints = hints
        self.future: Future = Future()


_STOP = object()


def claimed_batches(items: queue.SimpleQueue, max_batch: int) -> Iterator[list[Any]]:
    """Group commit's intake: wait for one item, then take whatever else is queued (up to
    `max_batch`), until `stop_worker` queues its sentinel.

    Items are claimed first (`Future.set_running_or_notify_cancel`): one whose caller gave up (a
    disconnected request) was never acknowledged, so it is skipped and nothing is lost; once
    claimed, a future can no longer be cancelled and its result is always delivered.
    """
    while True:
        item = items.get()
        if item is _STOP:
            return
        batch, stop = [item], False
        while len(batch) < max_batch:
            try:
                nxt = items.get_nowait()
            except queue.Empty:
                break
            if nxt is _STOP:
                stop = True
                break
            batch.append(nxt)
        claimed = [item for item in batch if item.future.set_running_or_notify_cancel()]
        if claimed:
            yield claimed
        if stop:
            return


def stop_worker(
    items: queue.SimpleQueue, thread: threading.Thread, con: duckdb.DuckDBPyConnection
) -> None:
    """Let a `claimed_batches` thread finish what is queued, then close its connection."""
    if thread.is_alive():
        items.put(_STOP)
        thread.join(timeout=30)
    with contextlib.suppress(duckdb.Error):
        con.close()


class EventStore:
    """Owns the DuckDB connection; one writer thread, any number of reader cursors."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock = utcnow,
        max_batch: int = 2000,
        threads: int = 1,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.clock = clock
        self.max_batch = max_batch
        self._con = duckdb.connect(str(path))
        # DuckDB checkpoints (folds the WAL into the file) inside the commit that crosses the
        # threshold, stalling that batch; a larger WAL makes it rare at the cost of a longer
        # replay after a crash. Every acknowledged commit is in the WAL either way.
        self._con.execute(f"set checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        self._con.execute(f"set threads = {int(threads)}")
        migrate(self._con)
        self._next_seq = self._scalar("select coalesce(max(seq), 0) + 1 from events")
        self._id_counter = 0
        # Wall time plus randomness: unique across restarts even under an injected, fixed clock.
        self._id_prefix = f"{time.time_ns() // 1_000_000:x}{secrets.token_hex(3)}"
        self._conversations: dict[str, Conversation] = {}
        self._contacts: dict[str, Contact] = {}
        # Message ids that have (or had) parked statuses: a superset, so "not in it" is exact.
        self._orphan_ids: set[str] = {
            row[0]
            for row in self._con.execute(
                "select distinct message_id from orphan_statuses"
            ).fetchall()
        }
        # Conversations the running batch's prefetch found not committed: hooks that ask for the
        # committed row of a conversation the batch creates get None without a query.
        self._absent_conversations: set[str] = set()
        # Kept exact in memory (the router reads it for every new cycle): loaded once, then moved
        # by each committed batch's delta.
        self._open_counts: dict[str, int] = dict(
            self._con.execute(
                "select assignee_id, count(*) from conversations "
                "where assignee_id is not null and list_contains(?, status) group by assignee_id",
                [list(ACTIVE_STATUSES)],
            ).fetchall()
        )
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
        self._thread.start()
        self.batches_committed = 0

    def _scalar(self, sql: str, params: list | None = None) -> Any:
        return self._con.execute(sql, params or []).fetchall()[0][0]

    def new_id(self) -> str:
        self._id_counter += 1
        return f"{self._id_prefix}-{self._id_counter:x}"

    def journal_connection(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own for the webhook journal, which commits beside the writer."""
        return self._con.cursor()

    @property
    def last_seq(self) -> int:
        return self._next_seq - 1

    def _conversation(self, conversation_id: str) -> Conversation | None:
        cached = self._conversations.get(conversation_id)
        if cached is not None:
            return cached
        if conversation_id in self._absent_conversations:
            return None
        rows = self._con.execute(
            f"select {', '.join(CONVERSATION_COLUMNS)} from conversations "
            "where conversation_id = ?",
            [conversation_id],
        ).fetchall()
        if not rows:
            return None
        return self._remember_conversation(Conversation(*rows[0]))

    def _remember_conversation(self, conversation: Conversation) -> Conversation:
        conversation.tags = list(conversation.tags)
        self._conversations[conversation.conversation_id] = conversation
        _trim(self._conversations)
        return conversation

    def _remember_contact(self, contact: Contact) -> Contact:
        self._contacts[contact.contact_id] = contact
        _trim(self._contacts)
        return contact

    # reading ----------------------------------------------------------------------------
    def reader(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one request's reads; sees committed data only."""
        return self._con.cursor()

    # writing ----------------------------------------------------------------------------
    def submit(self, fn: Callable[[Tx], T], hints: Hints | None = None) -> Future[T]:
        item = _Item(fn, hints)
        self._queue.put(item)
        return item.future

    async def run(self, fn: Callable[[Tx], T], hints: Hints | None = None) -> T:
        return await asyncio.wrap_future(self.submit(fn, hints))

    def run_sync(self, fn: Callable[[Tx], T]) -> T:
        return self.submit(fn).result()

    def close(self) -> None:
        stop_worker(self._queue, self._thread, self._con)

    def _run(self) -> None:
        for batch in claimed_batches(self._queue, self.max_batch):
            self._execute(batch)

    def _execute(self, batch: list[_Item]) -> None:
        try:
            self._execute_batch(batch)
        finally:
            self._absent_conversations = set()

    def _execute_batch(self, batch: list[_Item]) -> None:
        self._absent_conversations = set()
        tx = Tx(self)
        outcomes: list[tuple[_Item, bool, Any]] = []
        try:
            self._con.execute("begin")
            hints = [item.hints for item in batch if item.hints is not None]
            if hints:
                tx.prefetch(hints)
            for item in batch:
                try:
                    with tx.command():
                        outcomes.append((item, True, item.fn(tx)))
                except Exception as exc:
                    outcomes.append((item, False, exc))
            tx._flush()
            self._con.execute("commit")
        except Exception as exc:
            with contextlib.suppress(duckdb.Error):
                self._con.execute("rollback")
            if len(batch) > 1:
                # One bad command must not sink its neighbours: retry each on its own.
                for item in batch:
                    self._execute_batch([item])
                return
            log.exception("write failed")
            batch[0].future.set_exception(exc)
            return
        self._next_seq += len(tx._batch.events)
        _add_counts(self._open_counts, tx._batch.open_delta)
        for conversation in tx._batch.conversations.values():
            self._remember_conversation(conversation)
        for contact in tx._batch.contacts.values():
            self._remember_contact(contact)
        self.batches_committed += 1
        for item, ok, value in outcomes:
            if ok:
                item.future.set_result(value)
            else:
                item.future.set_exception(value)
        for callback in tx._batch.deferred:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed")
