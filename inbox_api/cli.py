"""`bandeja`: one console command; each component registers its own subcommands."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Modules that contribute subcommands through `register(subparsers)`; each owns its own flags.
COMMAND_MODULES = (
    "inbox_api.commands",
    "ingest.commands",
    "pipelines.commands",
    "dashboards.commands",
)


def _quiet_telemetry() -> None:
    for name, value in {
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }.items():
        os.environ.setdefault(name, value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bandeja", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    _quiet_telemetry()
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear one-line error for any operational failure
        if os.environ.get("BANDEJA_DEBUG"):
            raise
        print(f"bandeja {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
