"""`bandeja simulate history|live|bulk` and `bandeja import conversions`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from ingest.config import BusinessConfig, load_config

if TYPE_CHECKING:
    from inbox_api.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    simulate = subparsers.add_parser("simulate", help="generate realistic WhatsApp traffic")
    modes = simulate.add_subparsers(dest="simulate_mode", required=True, metavar="MODE")

    history = modes.add_parser(
        "history", help="load the past D days through the import API, with original timestamps"
    )
    _common(history)
    history.add_argument("--days", type=float, default=7.0)
    history.add_argument(
        "--end", type=_instant, help="end of the history (ISO 8601; default: this hour)"
    )
    history.add_argument("--batch-size", type=int, default=5_000)
    history.add_argument(
        "--dry-run", action="store_true", help="generate and summarise without importing"
    )
    history.set_defaults(handler=_history)

    live = modes.add_parser(
        "live", help="signed webhooks and agents through the REST API, in (scaled) real time"
    )
    _common(live)
    live.add_argument("--speed", type=float, default=10.0, help="simulated seconds per second")
    live.add_argument("--minutes", type=float, default=10.0, help="wall-clock minutes to run")
    live.set_defaults(handler=_live)

    bulk = modes.add_parser("bulk", help="write a large import-ready Parquet data set")
    bulk.add_argument("--messages", type=int, default=10_000_000)
    bulk.add_argument("--out", type=Path, required=True, help="an empty output folder")
    bulk.add_argument("--seed", type=int, default=1)
    bulk.add_argument("--end", type=_instant, help="end of the data set (default: now)")
    bulk.set_defaults(handler=_bulk)

    imports = subparsers.add_parser("import", help="import data from other systems")
    kinds = imports.add_subparsers(dest="import_kind", required=True, metavar="KIND")
    conversions = kinds.add_parser(
        "conversions", help="CRM sales/appointments from a CSV file (idempotent)"
    )
    conversions.add_argument("file", type=Path)
    conversions.add_argument("--api-url", help="default BANDEJA_API_URL")
    conversions.add_argument("--token", help="admin token (default BANDEJA_ADMIN_TOKEN)")
    conversions.set_defaults(handler=_conversions)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--api-url", help="default BANDEJA_API_URL")
    parser.add_argument("--token", help="admin token (default BANDEJA_ADMIN_TOKEN)")
    parser.add_argument("--config", type=Path, help="business config (default BANDEJA_CONFIG_FILE)")


def _instant(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 instant") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, e.g. 2026-11-23T18:00Z")
    return value


def _settings_and_config(args: argparse.Namespace) -> tuple[Settings, BusinessConfig]:
    from inbox_api.settings import get_settings

    settings = get_settings()
    config = load_config(getattr(args, "config", None) or settings.config_file)
    return settings, config


def _client(args: argparse.Namespace, settings: Settings) -> tuple[httpx.Client, str]:
    url = args.api_url or settings.api_url
    token = args.token or settings.admin_token.get_secret_value()
    return httpx.Client(base_url=url, timeout=120.0), token


def _history(args: argparse.Namespace) -> int:
    from ingest.simulator import generate, summarize
    from ingest.simulator.history import import_events

    settings, config = _settings_and_config(args)
    events = list(generate(config, args.days, args.agents, args.seed, args.end))
    summary = summarize(events, config)
    if not args.dry_run:
        client, token = _client(args, settings)
        with client:
            result = import_events(
                events,
                client,
                token,
                batch_size=args.batch_size,
                progress=lambda r: print(
                    f"\r  imported batch {r.batches}: {r.accepted:,} new, "
                    f"{r.duplicates:,} already there",
                    end="",
                    file=sys.stderr,
                ),
            )
        print(file=sys.stderr)
        print(
            f"Imported {result.accepted:,} new events ({result.duplicates:,} already there) "
            f"in {result.batches} batches to {client.base_url}"
        )
    print(summary.format())
    return 0


def _live(args: argparse.Namespace) -> int:
    from ingest.simulator.live import run_live

    settings, config = _settings_and_config(args)
    url = args.api_url or settings.api_url
    token = args.token or settings.admin_token.get_secret_value()
    stats = run_live(
        config,
        api_url=url,
        admin_token=token,
        app_secret=settings.whatsapp_app_secret.get_secret_value(),
        agents=args.agents,
        seed=args.seed,
        speed=args.speed,
        minutes=args.minutes,
    )
    print(stats.format())
    return 0


def _bulk(args: argparse.Namespace) -> int:
    from ingest.simulator.bulk import write_bulk

    _, config = _settings_and_config(args)
    stats = write_bulk(args.out, args.messages, args.seed, config, args.end)
    print(
        f"Wrote {stats.messages:,} messages ({stats.cycles:,} cycles, {stats.events:,} events, "
        f"{stats.contacts:,} contacts) in {stats.files} Parquet files to {args.out} "
        f"in {stats.seconds:.0f} s; {stats.first_at:%Y-%m-%d} → {stats.last_at:%Y-%m-%d}"
    )
    return 0


def _conversions(args: argparse.Namespace) -> int:
    from ingest.crm import import_file

    settings, _ = _settings_and_config(args)
    client, token = _client(args, settings)
    with client:
        report = import_file(args.file, client, token)
    print(report.format())
    return 1 if report.bad_rows else 0
