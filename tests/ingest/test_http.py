"""Import, CRM conversions and live play against the real inbox API (in-process ASGI)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from served import LiveClient, served

from inbox_api.app import create_app
from inbox_api.settings import Settings
from ingest.config import BusinessConfig
from ingest.crm import import_file
from ingest.simulator import generate
from ingest.simulator.history import ImportFailed, import_events, to_ndjson
from ingest.simulator.live import LivePlayer, _LiveAgent, require_loopback

ADMIN = "dev-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
END = dt.datetime(2026, 11, 24, 18, tzinfo=dt.UTC)


@pytest.fixture
def client(tmp_path: Path):
    with served(create_app(Settings(data_dir=tmp_path, env="test"))) as client:
        yield client


@pytest.fixture(scope="module")
def two_days(config: BusinessConfig) -> list[dict[str, Any]]:
    return list(generate(config, 2, 6, 11, END))


def _feed(client: LiveClient) -> list[dict[str, Any]]:
    events, after = [], 0
    while True:
        body = client.get(
            "/v1/feed/events", params={"after": after, "limit": 5000}, headers=AUTH
        ).json()
        events += body["events"]
        if not body.get("has_more"):
            return events
        after = body["next_after"]


def test_history_import_is_idempotent(client: LiveClient, two_days: list[dict]) -> None:
    first = import_events(two_days, client, ADMIN, batch_size=4_000)
    assert first.accepted == len(two_days) and first.duplicates == 0
    assert first.batches == -(-len(two_days) // 4_000)
    again = import_events(two_days, client, ADMIN, batch_size=4_000)
    assert again.accepted == 0 and again.duplicates == len(two_days)
    imported = [e for e in _feed(client) if e["event_id"].startswith("sim:11:")]
    assert len(imported) == len(two_days)
    by_id = {e["event_id"]: e for e in imported}
    sample = two_days[len(two_days) // 2]
    stored = by_id[sample["event_id"]]
    assert dt.datetime.fromisoformat(stored["occurred_at"].replace("Z", "+00:00")) == (
        dt.datetime.fromisoformat(sample["occurred_at"])
    )
    # The inbox shows the imported conversations in their final state.
    listed = client.get(
        "/v1/conversations", params={"status": "resolved", "limit": 500}, headers=AUTH
    ).json()["items"]
    assert len(listed) > 100


def test_a_bad_batch_is_rejected_whole_naming_rows(
    client: LiveClient, two_days: list[dict]
) -> None:
    batch = [dict(e) for e in two_days[:50]]
    batch[3] = {**batch[3], "actor_kind": "robot"}
    batch[7] = {**batch[7], "occurred_at": "yesterday"}
    with pytest.raises(ImportFailed) as failure:
        import_events(batch, client, ADMIN)
    message = str(failure.value)
    assert "HTTP 422" in message
    assert f"row 4 ({batch[3]['event_id']}) actor_kind" in message
    assert f"row 8 ({batch[7]['event_id']}) occurred_at" in message
    assert not [e for e in _feed(client) if e["event_id"].startswith("sim:")]


def test_import_needs_the_admin_token(client: LiveClient, two_days: list[dict]) -> None:
    response = client.post(
        "/v1/import/events",
        content=to_ndjson(two_days[:5]),
        headers={"Authorization": "Bearer nope", "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 401


def test_crm_file_import_counts_and_is_idempotent(
    client: LiveClient, two_days: list[dict], tmp_path: Path
) -> None:
    import_events(two_days, client, ADMIN)
    contacts = [e["payload"] for e in two_days if e["event_type"] == "contact"]
    with_phone = next(c for c in contacts if c["wa_id"])
    csv_file = tmp_path / "conversions.csv"
    csv_file.write_text(
        "contact,type,amount,currency,occurred_at\n"
        f"+{with_phone['wa_id']},sale,2500,MXN,2026-11-24T12:00:00-06:00\n"
        f"{contacts[1]['bsuid']},appointment,,,2026-11-24\n"
        "5219999999999,sale,100,MXN,2026-11-24T12:00:00Z\n"
        "5219999999999,gift,100,MXN,2026-11-24T12:00:00Z\n",
        encoding="utf-8",
    )
    first = import_file(csv_file, client, ADMIN)
    assert (first.imported, first.duplicates) == (2, 0)
    assert first.unknown_contacts == [4]
    assert [bad.line for bad in first.bad_rows] == [5]
    second = import_file(csv_file, client, ADMIN)
    assert (second.imported, second.duplicates) == (0, 2)
    crm = [e for e in _feed(client) if e["event_id"].startswith("conv:csv:")]
    assert len(crm) == 2 and {e["event_type"] for e in crm} == {"conversion"}
    assert "imported 0, duplicates 2, unknown contacts 1, bad rows 1" in second.format()


class _Clock:
    """Injected wall clock: each tick advances it instead of sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_live_play_drives_webhooks_and_agents(client: LiveClient, config: BusinessConfig) -> None:
    clock = _Clock()
    player = LivePlayer(
        config,
        client,
        ADMIN,
        Settings(env="test").whatsapp_app_secret.get_secret_value(),
        agents=6,
        seed=3,
        speed=120.0,
        minutes=1.0,
        clock=clock,
        start=dt.datetime(2026, 11, 24, 16, tzinfo=dt.UTC),
    )
    stats = player.run(sleep=clock.sleep)
    assert stats.errors == []
    assert stats.webhooks == len(player.queue) > 50
    assert stats.replies > 10
    assert stats.resolutions > 0
    kinds = Counter(e["event_type"] for e in _feed(client))
    assert kinds["message"] >= stats.webhooks + stats.replies
    assert kinds["status_change"] >= stats.resolutions
    # Running again with the same seed sends new deliveries (a new run tag), not duplicates.
    rerun = LivePlayer(
        config,
        client,
        ADMIN,
        "dev-app-secret",
        6,
        3,
        120.0,
        0.1,
        clock=clock,
        start=dt.datetime(2026, 11, 24, 16, 5, tzinfo=dt.UTC),
    )
    assert rerun.run_tag != player.run_tag


def test_live_refuses_a_remote_api() -> None:
    require_loopback("http://127.0.0.1:8000")
    with pytest.raises(ValueError, match="loopback"):
        require_loopback("https://api.example.com")


def test_webhook_bodies_are_meta_shaped(two_days: list[dict]) -> None:
    from ingest.simulator.live import sign, webhook_body

    inbound = [
        e
        for e in two_days
        if e["event_type"] == "message" and e["payload"]["sender_kind"] == "customer"
    ]
    for kind in ("text", "interactive", "image"):
        event = next(e for e in inbound if e["payload"]["message_type"] == kind)
        body = webhook_body(event, "wamid.X", 1_767_268_800)
        value = orjson.loads(body)["entry"][0]["changes"][0]["value"]
        assert value["metadata"]["phone_number_id"] == event["inbox_id"]
        assert value["contacts"][0]["user_id"] == event["contact_id"]
        assert value["messages"][0]["type"] == kind
        assert value["messages"][0]["timestamp"] == "1767268800"
        assert sign(body, "s").startswith("sha256=") and len(sign(body, "s")) == 71


def test_live_agents_tell_a_lost_reassignment_race_from_a_failure() -> None:
    """A 403 because the conversation now belongs to another agent, or to another team's queue,
    is the race of working from a list; any other refusal is an error."""
    fer = _LiveAgent("fer", "Fer", ["billing"], [], 1.0)

    def refusal(assignee: str, team: str = "x") -> httpx.Response:
        detail = (
            f"agent 'fer' may not act on conversation 'c1' (assigned to {assignee}, team {team})"
        )
        return httpx.Response(403, json={"detail": detail, "code": "forbidden", "field": None})

    assert LivePlayer._reassigned_away(refusal("elena"), fer)
    assert not LivePlayer._reassigned_away(refusal("fer"), fer)
    # moved to another team's queue before the pick-up: the same race
    assert LivePlayer._reassigned_away(refusal("nobody", "sales"), fer)
    assert not LivePlayer._reassigned_away(refusal("nobody", "billing"), fer)
    assert not LivePlayer._reassigned_away(httpx.Response(409, text="(assigned to elena,"), fer)
