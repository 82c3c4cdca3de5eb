"""Open-loop load generator: signed WhatsApp webhooks at a fixed rate over keep-alive connections.

Run as its own process (`python -m bench.loadgen ...`) so it never shares a GIL with the server.
Each request is scheduled at `start + i / rate` whatever happened to earlier ones (open loop), and
its latency is measured from that scheduled instant, so a stalled server cannot hide its queueing
delay (no coordinated omission). The client is a minimal HTTP/1.1 writer over asyncio streams:
cheaper than a general client, so the generator stays a small share of the 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import hmac
import json
import random
import sys
import time
from pathlib import Path

PHONE_NUMBER_ID = "114477889900112"
TEXTS = [
    "Hola, ¿cuál es el precio del plan anual?",
    "Mi pedido #A-{n} no ha llegado, ¿me ayudan?",
    "Necesito la factura de mi último pago por favor",
    "¿Tienen envío a Monterrey? Quiero comprar dos piezas",
    "Buenas tardes, la garantía cubre esta falla?",
    "Gracias!! ya quedó resuelto",
]


def webhook_body(run_id: str, index: int, contacts: int, now: int) -> tuple[str, bytes]:
    """One inbound text message in Meta's envelope; the wamid is unique per (run, index)."""
    wa_id = f"52155{(index % contacts):08d}"
    wamid = f"wamid.bench.{run_id}.{index:09d}"
    text = TEXTS[index % len(TEXTS)].replace("{n}", str(1000 + index % 9000))
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "109876543210987",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550142233",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [
                                {"profile": {"name": f"Cliente {index % contacts}"}, "wa_id": wa_id}
                            ],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": wamid,
                                    "timestamp": str(now),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return wamid, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def request_bytes(host: str, body: bytes, secret: bytes) -> bytes:
    signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
    head = (
        f"POST /webhooks/whatsapp HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"X-Hub-Signature-256: sha256={signature}\r\n\r\n"
    )
    return head.encode() + body


class Pool:
    """Idle keep-alive connections; a request that finds none opens another (open loop)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: collections.deque = collections.deque()
        self.opened = 0

    async def get(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.idle:
            return self.idle.pop()
        self.opened += 1
        return await asyncio.open_connection(self.host, self.port)

    def put(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.idle.append(conn)


async def send_one(pool: Pool, payload: bytes, timeout: float) -> int:
    reader, writer = await pool.get()
    try:
        writer.write(payload)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await asyncio.wait_for(reader.readexactly(length), timeout)
    except BaseException:
        writer.close()
        raise
    pool.put((reader, writer))
    return status


async def run(args: argparse.Namespace) -> dict:
    pool = Pool(args.host, args.port)
    secret = args.secret.encode()
    total = int(args.rate * args.seconds)
    latencies: list[float] = []
    statuses: collections.Counter = collections.Counter()
    acked: list[str] = []
    errors: collections.Counter = collections.Counter()
    tasks: set[asyncio.Task] = set()
    windows: collections.defaultdict[int, list[float]] = collections.defaultdict(list)
    now_unix = int(time.time())
    host = f"{args.host}:{args.port}"

    # Warm the pool so the first second does not measure TCP handshakes.
    for conn in await asyncio.gather(*(pool.get() for _ in range(args.connections))):
        pool.put(conn)

    async def fire(index: int, scheduled: float) -> None:
        wamid, body = webhook_body(args.run_id, index, args.contacts, now_unix)
        try:
            status = await send_one(pool, request_bytes(host, body, secret), args.timeout)
        except Exception as exc:
            errors[type(exc).__name__] += 1
            return
        latency = time.perf_counter() - scheduled
        latencies.append(latency)
        windows[int((scheduled - start) // args.window)].append(latency)
        statuses[status] += 1
        if status == 200:
            acked.append(wamid)

    start = time.perf_counter() + 0.05
    for index in range(total):
        scheduled = start + index / args.rate
        delay = scheduled - time.perf_counter()
        if delay > 0.001:
            await asyncio.sleep(delay)
        task = asyncio.create_task(fire(index, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    send_done = time.perf_counter()
    if tasks:
        await asyncio.wait(tasks, timeout=args.timeout + 5)
    end = time.perf_counter()

    def pct(p: float, values: list[float]) -> float:
        if not values:
            return float("nan")
        values.sort()
        return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000

    latencies.sort()

    if args.acked_file:
        Path(args.acked_file).write_text("\n".join(acked) + ("\n" if acked else ""))
    return {
        "target_rate": args.rate,
        "seconds": args.seconds,
        "sent": total,
        "achieved_send_rate": total / (send_done - start),
        "completed_rate": len(latencies) / (end - start),
        "ok": statuses.get(200, 0),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": dict(errors),
        "connections_opened": pool.opened,
        "p50_ms": pct(50, latencies),
        "p90_ms": pct(90, latencies),
        "p99_ms": pct(99, latencies),
        "p999_ms": pct(99.9, latencies),
        "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
        # p99 of the requests scheduled in each window: where in the run the slow ones were.
        "p99_ms_by_window": {
            f"{index * args.window:g}s": round(pct(99, values), 1)
            for index, values in sorted(windows.items())
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=1000.0, help="messages per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=64, help="keep-alive pool to start")
    parser.add_argument("--contacts", type=int, default=5000, help="distinct senders")
    parser.add_argument("--secret", default="dev-app-secret")
    parser.add_argument("--run-id", default=f"{random.getrandbits(32):08x}")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--window", type=float, default=5.0, help="seconds per latency window")
    parser.add_argument("--acked-file", help="write the wamid of every 200 here, one a line")
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(args))
    else:
        result = uvloop.run(run(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
