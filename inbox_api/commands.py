"""`bandeja serve`, `bandeja users create`, `bandeja demo`."""

from __future__ import annotations

import argparse
import sys

import httpx

from inbox_api.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="run the inbox API (sole writer of inbox.duckdb)")
    serve.add_argument("--host", help="bind address (default BANDEJA_HOST)")
    serve.add_argument("--port", type=int, help="port (default BANDEJA_PORT)")
    serve.set_defaults(handler=_serve)

    users = subparsers.add_parser("users", help="manage users through the running API")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    create = users_sub.add_parser("create", help="create a user and print its token (shown once)")
    create.add_argument("--id", required=True)
    create.add_argument("--name", required=True)
    create.add_argument(
        "--role", required=True, choices=["agent", "supervisor", "admin", "analyst"]
    )
    create.add_argument("--teams", default="", help="comma-separated team ids")
    create.add_argument("--skills", default="", help="comma-separated skills")
    create.add_argument("--capacity", type=int, default=8)
    create.add_argument("--api-url", help="default BANDEJA_API_URL")
    create.add_argument("--token", help="admin token (default BANDEJA_ADMIN_TOKEN)")
    create.set_defaults(handler=_create_user)

    demo = subparsers.add_parser(
        "demo", help="the whole stack on embedded defaults with a simulated week"
    )
    demo.add_argument("--days", type=int, default=14, help="days of history to simulate")
    demo.add_argument("--agents", type=int, default=6)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--exit-after-setup",
        action="store_true",
        help="stop once everything was built and checked (used by the tests)",
    )
    demo.set_defaults(handler=_demo)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "inbox_api.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level="info",
        access_log=False,
    )
    return 0


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _create_user(args: argparse.Namespace) -> int:
    settings = get_settings()
    api_url = (args.api_url or settings.api_url).rstrip("/")
    try:
        response = _post_user(args, settings, api_url)
    except httpx.HTTPError as exc:
        print(f"bandeja users create: cannot reach the API at {api_url}: {exc}", file=sys.stderr)
        return 1
    if response.status_code != 201:
        print(f"bandeja users create: {response.status_code} {response.text}", file=sys.stderr)
        return 1
    user = response.json()
    print(f"created {user['role']} {user['id']}; token (shown once): {user['token']}")
    return 0


def _post_user(args: argparse.Namespace, settings, api_url: str) -> httpx.Response:
    return httpx.post(
        f"{api_url}/v1/users",
        headers={
            "Authorization": f"Bearer {args.token or settings.admin_token.get_secret_value()}"
        },
        json={
            "id": args.id,
            "name": args.name,
            "role": args.role,
            "teams": _split(args.teams),
            "skills": _split(args.skills),
            "capacity": args.capacity,
        },
        timeout=30,
    )


def _demo(args: argparse.Namespace) -> int:
    from inbox_api.demo import run_demo

    return run_demo(
        days=args.days, agents=args.agents, seed=args.seed, exit_after_setup=args.exit_after_setup
    )
