"""`gateway`: serve, migrate, apply, export, import and inspect executions
(docs/documents.md).

Each command translates its arguments into calls on the same service functions the server
uses. Exit codes: 0 done, 1 refused (validation problems, unreachable database), 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import uvloop

from gateway.core.errors import ConfigError, DefinitionInvalid, GatewayError
from gateway.core.logs import configure
from gateway.core.settings import Settings, load_settings
from gateway.core.statuses import ExecutionStatus
from gateway.core.tuning import tune_process
from gateway.security.secrets import SecretBox
from gateway.service import database, executions, retries, tokens
from gateway.service.worker import serve_worker
from gateway.workflows.apply import apply_documents, prepare, trigger_url
from gateway.workflows.documents import read_sources
from gateway.workflows.export import dump_yaml, export_documents
from gateway.workflows.nocobase import Conversion, convert

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def _print_problems(error: DefinitionInvalid) -> None:
    print(f"error: {len(error.problems)} problem(s); nothing was changed", file=sys.stderr)
    for problem in error.problems:
        print(f"  - {problem}", file=sys.stderr)


async def _with_store(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    async with database.session(settings):
        return await work()


async def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    await database.migrate(settings)
    print("database is up to date")
    return 0


async def cmd_apply(args: argparse.Namespace, settings: Settings) -> int:
    sources, problems = read_sources(args.paths)
    if problems:
        _print_problems(DefinitionInvalid(problems))
        return 1

    async def work() -> int:
        try:
            changes = await apply_documents(
                sources, settings, prune=args.prune, dry_run=args.dry_run
            )
        except DefinitionInvalid as exc:
            _print_problems(exc)
            return 1
        print("plan (dry run, nothing changed):" if args.dry_run else "plan:")
        for change in changes:
            print(f"  {change.describe()}")
        urls = [c for c in changes if c.action != "delete"]
        if urls:
            print("webhook URLs:")
            width = max(len(c.key) for c in urls)
            for change in urls:
                url = (
                    trigger_url(settings, change.trigger_key)
                    if change.trigger_key
                    else "(a random key is assigned when applied)"
                )
                print(f"  {change.key:<{width}}  POST {url}")
        return 0

    return await _with_store(settings, work)


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        documents = await export_documents(args.keys or None)
        if args.output is None:
            sys.stdout.write(dump_yaml(documents))
            return 0
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        for doc in documents:
            (out / f"{doc['key']}.yaml").write_text(dump_yaml([doc]))
        print(f"wrote {len(documents)} workflow(s) to {out}")
        return 0

    return await _with_store(settings, work)


def _report(conversions: list[Conversion]) -> None:
    for item in conversions:
        mark = "+" if item.document else ("-" if not item.problems else "!")
        print(f"{mark} {item.key}", file=sys.stderr)
        for note in item.notes:
            print(f"    {note}", file=sys.stderr)
        for problem in item.problems:
            print(f"    not converted: {problem}", file=sys.stderr)


async def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """NocoBase's own workflow records → documents for `gateway apply`, with a report
    (docs/nocobase.md, Importing). Needs no database."""
    conversions: list[Conversion] = []
    for path in args.paths:
        try:
            data = orjson.loads(Path(path).read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            print(f"error: cannot read {path}: {exc}", file=sys.stderr)
            return 1
        conversions += convert(data, frozenset(settings.template_env))
    _report(conversions)
    documents = [c.document for c in conversions if c.document is not None]
    if args.output is None:
        sys.stdout.write(dump_yaml(documents))
    else:
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        for doc in documents:
            (out / f"{doc['key']}.yaml").write_text(dump_yaml([doc]))
    failed = sum(1 for c in conversions if c.problems)
    print(
        f"converted {len(documents)} workflow(s)"
        + (f"; {failed} could not be converted" if failed else ""),
        file=sys.stderr,
    )
    return 1 if failed else 0


async def cmd_executions(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        rows = await executions.recent(
            workflow_key=args.workflow, status=args.status, limit=args.limit, with_jobs=args.jobs
        )
        if args.json:
            sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
            return 0
        for row in rows:
            print(
                f"{row['id']}  {row['workflow']:<24} {row['status']:<9} "
                f"{row['responseStatus'] or '-':<4} {row['createdAt']}"
            )
        return 0

    return await _with_store(settings, work)


async def cmd_bulk(args: argparse.Namespace, settings: Settings) -> int:
    """`gateway resume` and `gateway replay`: queued in the database; a running server or
    worker picks them up on its next sweep."""

    async def work() -> int:
        which = retries.selection(args.workflow, args.status, args.since, args.until)
        if args.command == "resume":
            done = await retries.resume_matching(which, args.limit, None)
        else:
            done = await retries.replay_matching(which, args.limit, None, args.fresh_key)
        verb = "resumed" if args.command == "resume" else "replayed"
        skipped = done.considered - done.queued  # already resumed or replayed, or running
        print(
            f"{done.queued} {verb} ({done.matched} matched, {done.considered} considered, "
            f"{skipped} skipped)"
        )
        return 0

    return await _with_store(settings, work)


def _when(text: str) -> datetime:
    """An ISO 8601 time; without a zone, UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _bulk_parser(sub: Any, name: str, help: str) -> argparse.ArgumentParser:
    bulk: argparse.ArgumentParser = sub.add_parser(name, help=help)
    bulk.add_argument("--workflow", metavar="KEY")
    bulk.add_argument(
        "--status", help="an execution status, or DEAD_LETTER (default FAILED)", metavar="S"
    )
    bulk.add_argument("--since", type=_when, metavar="TIME", help="created at or after")
    bulk.add_argument("--until", type=_when, metavar="TIME", help="created before")
    bulk.add_argument(
        "--limit", type=int, default=retries.DEFAULT_BULK, help=f"at most {retries.MAX_BULK}"
    )
    return bulk


async def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        if args.action == "create":
            stored, token = await tokens.create_token(args.name)
            print(token)
            print(f"token {stored.id} created; it is shown only this once", file=sys.stderr)
        elif args.action == "list":
            for row in await tokens.list_tokens():
                used = row.last_used_at.isoformat() if row.last_used_at else "never used"
                print(f"{row.id}  {row.name or '-':<24} {row.created_at.isoformat()}  {used}")
        elif not await tokens.revoke_token(args.id):
            print(f"error: no token {args.id}", file=sys.stderr)
            return 1
        return 0

    return await _with_store(settings, work)


async def preflight(settings: Settings, serves_api: bool = True) -> None:
    """What would stop the server during start-up, checked before it starts so the user
    sees a message rather than a server traceback: schema, start-up documents,
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


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    try:
        asyncio.run(preflight(settings))
    except DefinitionInvalid as exc:
        _print_problems(exc)
        return 1

    tune_process()
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        lifespan="on",
        log_config=None,
        timeout_graceful_shutdown=settings.shutdown_grace,
    )
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.redis_url:
        print("error: gateway worker needs GATEWAY_REDIS_URL", file=sys.stderr)
        return 1
    asyncio.run(preflight(dataclasses.replace(settings, workflows_dir=None), serves_api=False))
    tune_process()
    uvloop.run(serve_worker(settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="Webhook workflow gateway")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve webhooks (uvloop, httptools, no access log)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    sub.add_parser("worker", help="run executions from Redis (needs GATEWAY_REDIS_URL)")
    sub.add_parser("migrate", help="create or upgrade the database schema")

    apply = sub.add_parser("apply", help="create or update workflows from documents")
    apply.add_argument("paths", nargs="+", metavar="PATH", help="YAML/JSON files or directories")
    apply.add_argument("--prune", action="store_true", help="delete workflows not in PATHs")
    apply.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")

    export = sub.add_parser("export", help="write workflows back as YAML documents")
    export.add_argument("keys", nargs="*", metavar="KEY", help="only these workflows")
    export.add_argument("--output", "-o", metavar="DIR", help="one file per workflow in DIR")

    imp = sub.add_parser("import", help="convert workflows exported from another product")
    imp.add_argument("--from", dest="source", required=True, choices=["nocobase"])
    imp.add_argument("paths", nargs="+", metavar="FILE", help="NocoBase workflows:list JSON")
    imp.add_argument("--output", "-o", metavar="DIR", help="one YAML file per workflow in DIR")

    ex = sub.add_parser("executions", help="list recent executions")
    ex.add_argument("--workflow", metavar="KEY")
    ex.add_argument("--status", choices=[s.value for s in ExecutionStatus])
    ex.add_argument("--limit", type=int, default=20)
    ex.add_argument("--jobs", action="store_true", help="include each execution's jobs")
    ex.add_argument("--json", action="store_true", help="a JSON array")

    _bulk_parser(sub, "resume", "queue failed executions again from the failed node")
    replay = _bulk_parser(sub, "replay", "run failed executions again from the start, as new")
    replay.add_argument(
        "--fresh-key", action="store_true", help="new Idempotency-Keys, not the original's"
    )

    token = sub.add_parser("token", help="GraphQL admin tokens (only their SHA-256 is stored)")
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a token and print it, once")
    create.add_argument("--name", default="", help="what the token is for")
    actions.add_parser("list", help="list tokens (ids, names, last use; never the tokens)")
    revoke = actions.add_parser("revoke", help="delete a token")
    revoke.add_argument("id", type=int)
    return parser


COMMANDS: dict[str, Command] = {
    "migrate": cmd_migrate,
    "apply": cmd_apply,
    "export": cmd_export,
    "import": cmd_import,
    "executions": cmd_executions,
    "resume": cmd_bulk,
    "replay": cmd_bulk,
    "token": cmd_token,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        configure(settings.log_level)
        if args.command == "serve":
            return cmd_serve(args, settings)
        if args.command == "worker":
            return cmd_worker(args, settings)
        return asyncio.run(COMMANDS[args.command](args, settings))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except GatewayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def run() -> Any:
    try:
        sys.exit(main())
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        sys.exit(0)
