"""The writer's in-memory open counts per assignee stay equal to the table, through failures."""

from pathlib import Path

import pytest

from inbox_api.store.state import Conversation
from inbox_api.store.writer import EventStore


def _table_counts(store: EventStore) -> dict[str, int]:
    rows = store.reader().execute(
        "select assignee_id, count(*) from conversations where assignee_id is not null "
        "and status in ('open', 'pending', 'snoozed') group by assignee_id"
    )
    return dict(rows.fetchall())


def test_open_counts_follow_commits_and_ignore_failed_commands(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "inbox.duckdb")
    try:

        def open_two(tx) -> dict[str, int]:
            for n, agent in enumerate(("ana", "ana")):
                tx.put_conversation(Conversation(f"pn:{n}", "pn", str(n), assignee_id=agent))
            return tx.open_counts()

        assert store.run_sync(open_two) == {"ana": 2}

        def move_and_fail(tx) -> None:
            conversation = tx.conversation("pn:0")
            conversation.assignee_id = "beto"
            tx.put_conversation(conversation)
            raise RuntimeError("validation failed after staging")

        with pytest.raises(RuntimeError):
            store.run_sync(move_and_fail)

        def resolve_one_move_other(tx) -> dict[str, int]:
            first, second = tx.conversation("pn:0"), tx.conversation("pn:1")
            first.status = "resolved"
            second.assignee_id = "beto"
            tx.put_conversation(first)
            tx.put_conversation(second)
            return tx.open_counts()

        assert store.run_sync(resolve_one_move_other) == {"ana": 0, "beto": 1}
        assert {k: v for k, v in store._open_counts.items() if v} == _table_counts(store)
    finally:
        store.close()
    reopened = EventStore(tmp_path / "inbox.duckdb")
    try:
        assert reopened._open_counts == {"beto": 1}
    finally:
        reopened.close()
