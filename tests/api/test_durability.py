"""`kill -9` under load: every acknowledged webhook survives exactly once; resends deduplicate."""

from __future__ import annotations

import asyncio
import collections
import hashlib
import hmac
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `bench` lives at the repo root, next to the packages
    sys.path.insert(0, str(ROOT))

from bench.loadgen import webhook_body  # noqa: E402
from bench.server import ADMIN_TOKEN, APP_SECRET, Server, message_ids  # noqa: E402

MESSAGES = 3000
KILL_AFTER_ACKS = 1000


def _signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


async def _load(server: Server, bodies: list[tuple[str, bytes]]) -> dict[str, bytes]:
    """Send everything with 64 concurrent senders; kill -9 the server mid-load."""
    acked: dict[str, bytes] = {}
    queue: asyncio.Queue = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=10.0) as client:

        async def sender() -> None:
            while not queue.empty():
                wamid, body = queue.get_nowait()
                try:
                    response = await client.post(
                        "/webhooks/whatsapp", content=body, headers=_signed(body)
                    )
                except httpx.HTTPError:
                    continue  # never acknowledged: the sender (Meta) would retry it
                if response.status_code == 200:
                    acked[wamid] = body
                    if len(acked) == KILL_AFTER_ACKS:
                        server.kill()

        await asyncio.gather(*(sender() for _ in range(64)))
    return acked


@pytest.mark.slow
def test_acknowledged_messages_survive_kill_9_exactly_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    now = int(time.time())
    bodies = [webhook_body("durable", i, 500, now) for i in range(MESSAGES)]
    server = Server(data_dir).start()
    try:
        acked = asyncio.run(_load(server, bodies))
    finally:
        server.kill()
    assert server.process is not None and server.process.returncode == -9
    assert KILL_AFTER_ACKS <= len(acked) < MESSAGES  # killed mid-load, with acks before it

    restarted = Server(data_dir).start()
    try:
        stored = collections.Counter(message_ids(restarted.url))
        inbound = {key: n for key, n in stored.items() if key.startswith("msg:wamid.bench.")}
        missing = [wamid for wamid in acked if inbound.get(f"msg:{wamid}") != 1]
        assert not missing, f"{len(missing)} acknowledged messages lost or duplicated"
        assert all(n == 1 for n in inbound.values())
        # A redelivery after the restart is answered 200 and stored once.
        resend = list(acked.items())[:20]
        with httpx.Client(base_url=restarted.url, timeout=10.0) as client:
            for _, body in resend:
                response = client.post("/webhooks/whatsapp", content=body, headers=_signed(body))
                assert response.status_code == 200
                applied = client.get(
                    f"/v1/webhooks/{response.json()['webhook_id']}",
                    params={"wait": 10},
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                ).json()
                assert (applied["state"], applied["duplicates"]) == ("applied", 1)
        after = collections.Counter(message_ids(restarted.url))
        assert all(after[f"msg:{wamid}"] == 1 for wamid, _ in resend)
        assert sum(after.values()) == sum(stored.values())
    finally:
        restarted.stop()
