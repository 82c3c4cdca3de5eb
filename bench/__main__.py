"""`python -m bench`: webhook ingest (group commit on vs off) and feed export, on loopback.

Each scenario starts a fresh `uvicorn` (one worker, uvloop, httptools, log level warning) on a
temp data dir; the load generator is a separate process. Prints a summary table; `--json`
writes the raw figures.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from bench.server import ADMIN_TOKEN, APP_SECRET, PARQUET, Server, iter_feed, message_ids


def _loadgen(port: int, rate: float, seconds: float, contacts: int, run_id: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.loadgen",
        "--port",
        str(port),
        "--rate",
        str(rate),
        "--seconds",
        str(seconds),
        "--contacts",
        str(contacts),
        "--secret",
        APP_SECRET,
        "--run-id",
        run_id,
    ]


def ingest(
    data_dir: Path, args: argparse.Namespace, label: str, env: dict[str, str], warm: bool
) -> dict:
    """One measured run; `warm` first sends one message per contact at a gentle rate, so the
    measured minute has no new contacts (no care cycle opens, no routing): the steady state."""
    acked_file = data_dir / "acked.txt"
    with Server(data_dir, env=env) as server:
        if warm:
            warm_rate = 250.0
            command = _loadgen(
                server.port, warm_rate, args.contacts / warm_rate, args.contacts, f"{label}-warm"
            )
            subprocess.run(command, capture_output=True, text=True, check=True)
        command = _loadgen(server.port, args.rate, args.seconds, args.contacts, label)
        command += ["--acked-file", str(acked_file)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["drain_s"] = _drain(server.url)
        stored = collections.Counter(
            key for key in message_ids(server.url) if key.startswith(f"msg:wamid.bench.{label}.")
        )
    acked = [f"msg:{line}" for line in acked_file.read_text().split()]
    result["label"] = label
    result["apply_lag_ms"] = _apply_lag(data_dir / "inbox.duckdb")
    result["lost"] = sum(1 for key in acked if stored[key] == 0)
    result["duplicated"] = sum(1 for n in stored.values() if n > 1)
    result["stored"] = sum(stored.values())
    result["met"] = (
        result["ok"] == result["sent"]
        and result["p99_ms"] <= 100
        and result["lost"] == 0
        and result["duplicated"] == 0
        and result["completed_rate"] >= 0.99 * args.rate
    )
    return result


def _drain(url: str, timeout: float = 300.0) -> float:
    """Seconds from the end of the load until every acknowledged body is applied."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if httpx.get(f"{url}/health", timeout=10).json()["webhooks_pending"] == 0:
            break
        time.sleep(0.05)
    return round(time.perf_counter() - start, 3)


def _apply_lag(inbox_db: Path) -> dict[str, float]:
    """Acknowledgement (journal commit) to applied (writer commit), per delivery, in ms."""
    with duckdb.connect(str(inbox_db), read_only=True) as con:
        row = con.execute(
            """
            select
                quantile_cont(lag, 0.5), quantile_cont(lag, 0.99), max(lag), count(*)
            from (
                select epoch_ms(o.applied_at) - epoch_ms(r.received_at) as lag
                from raw_webhooks as r join webhook_outcomes as o using (webhook_id)
            )
            """
        ).fetchall()[0]
    return {"p50": row[0], "p99": row[1], "max": row[2], "deliveries": row[3]}


def _history_batch(start: int, size: int, at: dt.datetime) -> bytes:
    """`size` imported inbound messages over 20 000 contacts, as one Parquet body."""
    ids = range(start, start + size)
    contacts = [f"52155{i % 20_000:08d}" for i in ids]
    table = pa.table(
        {
            "event_id": [f"hist-{i}" for i in ids],
            "event_type": ["message"] * size,
            "occurred_at": [(at + dt.timedelta(seconds=i)).isoformat() for i in ids],
            "inbox_id": ["114477889900112"] * size,
            "conversation_id": [f"114477889900112:{c}" for c in contacts],
            "contact_id": contacts,
            "actor_kind": ["customer"] * size,
            "actor_id": [None] * size,
            "payload": [
                json.dumps(
                    {
                        "message_id": f"wamid.hist.{i}",
                        "direction": "inbound",
                        "sender_kind": "customer",
                        "message_type": "text",
                        "body": "Hola, ¿me ayudan con mi pedido?",
                    }
                )
                for i in ids
            ],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def feed_export(data_dir: Path, args: argparse.Namespace) -> dict:
    batch = 50_000
    start_at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    # History is long past: SLA ticks would escalate every imported wait and compete with the
    # export being measured, so the SLA engine sleeps through this run.
    with Server(data_dir, env={"BANDEJA_SLA_TICK_SECONDS": "86400"}) as server:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": PARQUET}
        began = time.perf_counter()
        with httpx.Client(base_url=server.url, timeout=600.0) as client:
            for start in range(0, args.feed_events, batch):
                size = min(batch, args.feed_events - start)
                response = client.post(
                    "/v1/import/events",
                    content=_history_batch(start, size, start_at),
                    headers=headers,
                )
                response.raise_for_status()
        import_seconds = time.perf_counter() - began
        rows = 0
        began = time.perf_counter()
        for table in iter_feed(server.url, limit=50_000):
            rows += table.num_rows
        parquet_seconds = time.perf_counter() - began
        json_rows, began = 0, time.perf_counter()
        with httpx.Client(base_url=server.url, timeout=600.0) as client:
            after = 0
            while json_rows < min(rows, 500_000):
                response = client.get(
                    "/v1/feed/events",
                    params={"after": after, "limit": 50_000},
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                )
                body = response.json()
                json_rows += len(body["events"])
                after = body["next_after"]
                if not body["has_more"]:
                    break
        json_seconds = time.perf_counter() - began
    return {
        "events": rows,
        "import_events_per_s": args.feed_events / import_seconds,
        "parquet_events_per_s": rows / parquet_seconds,
        "json_events_per_s": json_rows / json_seconds,
        "met": rows / parquet_seconds >= 200_000,
    }


def _table(results: dict[str, Any]) -> str:
    lines = [
        "| scenario | sent | 200 | achieved/s | p50 ms | p90 ms | p99 ms | max ms | lost | dup "
        "| applied p50/p99/max ms | drained after | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results.get("ingest", []):
        lag = result["apply_lag_ms"]
        lines.append(
            f"| {result['label']} | {result['sent']} | {result['ok']} | "
            f"{result['completed_rate']:.0f} | {result['p50_ms']:.1f} | {result['p90_ms']:.1f} | "
            f"{result['p99_ms']:.1f} | {result['max_ms']:.1f} | {result['lost']} | "
            f"{result['duplicated']} | {lag['p50'] or 0:.0f} / {lag['p99'] or 0:.0f} / "
            f"{lag['max'] or 0:.0f} | {result['drain_s']:.1f} s | "
            f"{'met' if result['met'] else 'NOT met'} |"
        )
    feed = results.get("feed")
    if feed:
        lines += [
            "",
            "| feed events | import ev/s | Parquet export ev/s | JSON export ev/s | target |",
            "|---|---|---|---|---|",
            f"| {feed['events']} | {feed['import_events_per_s']:.0f} | "
            f"{feed['parquet_events_per_s']:.0f} | {feed['json_events_per_s']:.0f} | "
            f"{'met' if feed['met'] else 'NOT met'} |",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="ingest run length")
    parser.add_argument("--rate", type=float, default=1000.0, help="webhooks per second")
    parser.add_argument("--contacts", type=int, default=5000, help="distinct senders")
    parser.add_argument("--feed-events", type=int, default=2_000_000)
    parser.add_argument(
        "--only", choices=("ingest", "feed"), help="run one benchmark (default: both)"
    )
    parser.add_argument("--no-compare", action="store_true", help="skip group commit off")
    parser.add_argument(
        "--compare-seconds",
        type=float,
        default=10.0,
        help="length of the group-commit-off run (it cannot keep up, so keep it short)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bandeja-bench-") as tmp:
        root = Path(tmp)
        if args.only in (None, "ingest"):
            # (label, env, warm contacts first, seconds)
            scenarios = [
                ("cold_contacts", {}, False, args.seconds),
                ("warm_contacts", {}, True, args.seconds),
            ]
            if not args.no_compare:
                scenarios.append(
                    (
                        "no_group_commit",
                        {"BANDEJA_COMMIT_MAX_BATCH": "1"},
                        False,
                        args.compare_seconds,
                    )
                )
            results["ingest"] = []
            for label, env, warm, seconds in scenarios:
                run = argparse.Namespace(**vars(args))
                run.seconds = seconds
                print(f"ingest {label}: {run.rate:.0f}/s for {run.seconds:.0f} s ...", flush=True)
                results["ingest"].append(ingest(root / label, run, label, env, warm))
        if args.only in (None, "feed"):
            print(f"feed: importing {args.feed_events} events, then exporting ...", flush=True)
            results["feed"] = feed_export(root / "feed", args)
    print(_table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
