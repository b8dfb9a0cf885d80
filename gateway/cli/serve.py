"""`gateway serve` and `gateway worker`, and what `make run` adds to serve.

Before the server starts, everything that would stop it is checked so the user sees a
message rather than a traceback: the port, the schema, the start-up documents, the secret
key and an admin token. Then a plain-text banner says where everything is: the console and
GraphQL addresses, each workflow's trigger URL with its authentication, and the admin token
(a temporary one in dev mode when none is configured, or why none is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import functools
import logging
import os
import signal
import socket
import sys
from typing import Any, NoReturn

import uvloop

from gateway.api.limits import MAX_BODY
from gateway.cli.output import database_name, print_problems, require_database
from gateway.core.errors import ConfigError, DefinitionInvalid
from gateway.core.settings import Settings
from gateway.core.tuning import tune_process
from gateway.security.secrets import SecretBox
from gateway.service import database, tokens
from gateway.service.worker import serve_worker
from gateway.workflows.apply import Change, apply_missing, prepare, trigger_url
from gateway.workflows.documents import read_sources
from gateway.workflows.export import export_documents


def add_parsers(sub: Any) -> None:
    serve = sub.add_parser("serve", help="serve webhooks (uvloop, httptools, no access log)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--migrate", action="store_true", help="apply the database's migrations first"
    )
    serve.add_argument(
        "--examples",
        metavar="DIR",
        help="apply the documents of DIR whose workflow is not in the database yet",
    )
    sub.add_parser("worker", help="run executions from Redis (needs GATEWAY_REDIS_URL)")


class PortTaken(ConfigError):
    """The server's address cannot be bound."""


def check_port(host: str, port: int) -> None:
    """PortTaken when `host:port` cannot be bound: found before anything is applied."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            taken = exc.errno == errno.EADDRINUSE
            raise PortTaken(
                f"cannot listen on {host}:{port}: "
                + ("the port is taken (is another `make run` running?)" if taken else str(exc))
                + f"; choose another port: make run PORT={port + 1}"
                + f" (or gateway serve --port {port + 1})"
            ) from exc


async def preflight(settings: Settings, serves_api: bool = True) -> None:
    """What would stop the server during start-up: schema, start-up documents,
    GATEWAY_SECRET_KEY (required outside dev), and an admin token (for the API only)."""
    if settings.workflows_dir:
        sources, problems = read_sources([settings.workflows_dir])
        if problems:
            raise DefinitionInvalid(problems)
        prepare(sources, settings)
    async with database.session(settings):
        if serves_api:
            await tokens.require_token(settings)
    SecretBox.from_settings(settings)


def _auth(trigger: dict[str, Any]) -> str:
    if trigger.get("basicAuthentication"):
        return f"basic auth as {trigger['basicAuthentication']['username']}"
    if isinstance(trigger.get("signature"), dict):
        return f"signed ({trigger['signature'].get('preset', 'hmac')})"
    return "no authentication"


def _print_examples(changes: list[Change], kept: list[str], directory: str) -> None:
    for change in changes:
        print(f"examples: {change.describe()}")
    if kept:
        print(
            f"examples: kept {', '.join(kept)} as stored (already in the database; "
            f"`gateway apply {directory}` puts the files' version back)"
        )


async def _token_line(settings: Settings) -> tuple[Settings, str]:
    """The settings to serve with (a temporary token added in dev mode when none is
    configured) and the banner's token line."""
    if settings.admin_tokens:
        return settings, "token     from GATEWAY_ADMIN_TOKENS"
    if await tokens.any_configured(settings):
        return settings, (
            "token     none printed: stored tokens are shown only when created "
            "(`gateway token list`; `gateway token create` makes a new one)"
        )
    token = tokens.new_token()
    line = (
        f"token     {token}\n"
        "          (temporary, for this run; `gateway token create` makes a lasting one)"
    )
    return dataclasses.replace(settings, admin_tokens=(token,)), line


async def _workflow_lines(settings: Settings) -> list[str]:
    documents = await export_documents()
    if not documents:
        return ["workflows none yet: `gateway apply DIR` (docs/documents.md)"]
    width = max(len(d["key"]) for d in documents)
    lines = ["workflows"]
    for doc in documents:
        url = trigger_url(settings, doc["trigger"]["key"])
        state = "" if doc["enabled"] else ", disabled"
        lines.append(f"  {doc['key']:<{width}}  POST {url}  ({_auth(doc['trigger'])}{state})")
    return lines


async def start_up(settings: Settings, args: argparse.Namespace) -> Settings:
    """Migrate (`--migrate`), check, apply the examples and print the banner; the settings
    to serve with."""
    # The port is checked before anything is written (`make run` migrates), or else right
    # after the read-only checks, whose messages say more than a refused port.
    if args.migrate:
        check_port(args.host, args.port)
        applied = await database.migrate(settings)
        if applied:
            print(f"migrated {database_name(settings)}: {', '.join(applied)}")
    else:
        require_database(settings)
    await preflight(settings)
    if not args.migrate:
        check_port(args.host, args.port)
    async with database.session(settings):
        if args.examples:
            sources, problems = read_sources([args.examples])
            if problems:
                raise DefinitionInvalid(problems)
            _print_examples(*await apply_missing(sources, settings), args.examples)
        settings, token = await _token_line(settings)
        workflows = await _workflow_lines(settings)
    base = settings.public_url.rstrip("/")
    print(f"gateway   http://{args.host}:{args.port} (database {database_name(settings)})")
    print(f"console   {base}/console/")
    print(f"GraphQL   {base}/graphql")
    print(token)
    print("\n".join(workflows), flush=True)
    return settings


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _exit_at_once(code: int) -> NoReturn:
    """End a server or worker that has stopped (database, Redis and HTTP clients closed)
    without the interpreter's teardown, which frees the heap object by object: most of a
    second on a busy host, for nothing. Sandbox workers end when their pipe closes."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from gateway.app import create_app
    from gateway.sockets import server_options

    try:
        settings = asyncio.run(start_up(settings, args))
    except DefinitionInvalid as exc:
        print_problems(exc)
        return 1
    except PortTaken as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    tune_process()
    # uvicorn re-raises the signal that stopped it once it has shut down: a stop asked for
    # (SIGTERM, SIGINT) and carried out gracefully exits 0.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _stopped)
    try:
        uvicorn.run(
            functools.partial(create_app, settings),  # built by uvicorn, as "module:factory"
            factory=True,
            host=args.host,
            port=args.port,
            loop="uvloop",
            access_log=False,
            lifespan="on",
            log_config=None,
            timeout_graceful_shutdown=settings.shutdown_grace,
            # subscription messages go uncompressed: deflating each one for each subscriber
            # cost about a tenth of the CPU per call with 100 subscribers open (docs/api.md)
            ws_per_message_deflate=False,
            ws_max_size=MAX_BODY,  # a GraphQL message over WebSocket, as over HTTP (closed: 1009)
            **server_options(settings),  # httptools with socket timeouts (gateway/sockets.py)
        )
    except SystemExit as exc:
        if exc.code not in (0, None):  # uvicorn's own exit: start-up failed
            raise
    _exit_at_once(0)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.redis_url:
        print("error: gateway worker needs GATEWAY_REDIS_URL", file=sys.stderr)
        return 1
    require_database(settings)
    asyncio.run(preflight(dataclasses.replace(settings, workflows_dir=None), serves_api=False))
    tune_process()
    uvloop.run(serve_worker(settings))
    _exit_at_once(0)
