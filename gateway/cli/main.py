"""`gateway`: parse the arguments and run one command (docs/documents.md, Commands).

Each command translates its arguments into calls on the same service functions the server
uses. Exit codes: 0 done, 1 refused (validation problems, unreachable database, a prune not
confirmed), 2 usage. Every database error names the database it is about.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from gateway.cli import credentials, executions, serve, testing
from gateway.cli.output import database_name, print_problems, require_database, with_store
from gateway.core.errors import ConfigError, DefinitionInvalid, GatewayError
from gateway.core.logs import configure
from gateway.core.settings import Settings, load_settings
from gateway.service import database, retries, tokens
from gateway.service.events import Events
from gateway.workflows.apply import Change, apply_documents, document_warnings, trigger_url
from gateway.workflows.documents import Source, read_sources
from gateway.workflows.export import dump_yaml, export_documents
from gateway.workflows.nocobase import Conversion, convert

Command = Any  # async (args, settings) -> exit code


async def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    applied = await database.migrate(settings)
    where = database_name(settings)
    if applied:
        print(f"applied {len(applied)} migration(s) to {where}: {', '.join(applied)}")
    else:
        print(f"{where} is up to date: no migration to apply")
    return 0


def _print_plan(changes: list[Change], settings: Settings, dry_run: bool) -> None:
    print("plan (dry run, nothing changed):" if dry_run else "plan:")
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


def _confirm_deletions(doomed: list[str], paths: list[str], assume_yes: bool) -> bool:
    """`--prune` deletes workflows that are in the database but not in the files: list them
    and ask on a terminal; elsewhere only `--yes` lets it go on."""
    print(
        f"--prune deletes {len(doomed)} workflow(s) that are not in {' '.join(paths)}: "
        + ", ".join(doomed),
        file=sys.stderr,
    )
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        print("error: nothing was changed; add --yes to delete them", file=sys.stderr)
        return False
    answer = input("delete them? [y/N] ").strip().lower()
    if answer in ("y", "yes"):
        return True
    print("nothing was changed", file=sys.stderr)
    return False


async def _apply(sources: list[Source], args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.prune and not args.dry_run:
            planned = await apply_documents(sources, settings, prune=True, dry_run=True)
            doomed = [c.key for c in planned if c.action == "delete"]
            if doomed and not _confirm_deletions(doomed, args.paths, args.yes):
                return 1
        changes = await apply_documents(sources, settings, prune=args.prune, dry_run=args.dry_run)
    except DefinitionInvalid as exc:
        print_problems(exc)
        return 1
    _print_plan(changes, settings, args.dry_run)
    for warning in document_warnings(sources, settings):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


async def cmd_apply(args: argparse.Namespace, settings: Settings) -> int:
    sources, problems = read_sources(args.paths)
    if problems:
        print_problems(DefinitionInvalid(problems))
        return 1
    if not sources:
        where = " ".join(args.paths)
        print(f"error: no workflow documents (*.yaml, *.yml, *.json) in {where}", file=sys.stderr)
        return 1
    return await with_store(settings, lambda: _apply(sources, args, settings))


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

    return await with_store(settings, work)


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

    return await with_store(settings, work)


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
        elif not await _revoke(settings, args.id):
            print(f"error: no token {args.id}", file=sys.stderr)
            return 1
        return 0

    return await with_store(settings, work)


async def _revoke(settings: Settings, token_id: int) -> bool:
    """Revoke, and with Redis tell the servers (their open subscriptions check their tokens)."""
    events = Events(settings)
    await events.start()
    try:
        return await tokens.revoke_token(token_id, events)
    finally:
        await events.stop()


def _add_apply(sub: Any) -> None:
    apply = sub.add_parser("apply", help="create or update workflows from documents")
    apply.add_argument("paths", nargs="+", metavar="PATH", help="YAML/JSON files or directories")
    apply.add_argument("--prune", action="store_true", help="delete workflows not in PATHs")
    apply.add_argument("--yes", action="store_true", help="prune without asking")
    apply.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")


def _add_token(sub: Any) -> None:
    token = sub.add_parser("token", help="GraphQL admin tokens (only their SHA-256 is stored)")
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a token and print it, once")
    create.add_argument("--name", default="", help="what the token is for")
    actions.add_parser("list", help="list tokens (ids, names, last use; never the tokens)")
    revoke = actions.add_parser("revoke", help="delete a token")
    revoke.add_argument("id", type=int)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="Webhook workflow gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    serve.add_parsers(sub)
    sub.add_parser("migrate", help="create or upgrade the database schema")
    _add_apply(sub)

    export = sub.add_parser("export", help="write workflows back as YAML documents")
    export.add_argument("keys", nargs="*", metavar="KEY", help="only these workflows")
    export.add_argument("--output", "-o", metavar="DIR", help="one file per workflow in DIR")

    imp = sub.add_parser("import", help="convert workflows exported from another product")
    imp.add_argument("--from", dest="source", required=True, choices=["nocobase"])
    imp.add_argument("paths", nargs="+", metavar="FILE", help="NocoBase workflows:list JSON")
    imp.add_argument("--output", "-o", metavar="DIR", help="one YAML file per workflow in DIR")

    executions.add_parser(sub)
    _add_token(sub)
    testing.add_commands(sub)
    credentials.add_parser(sub)
    _bulk_parser(sub, "resume", "queue failed executions again from the failed node")
    replay = _bulk_parser(sub, "replay", "run failed executions again from the start, as new")
    replay.add_argument(
        "--fresh-key", action="store_true", help="new Idempotency-Keys, not the original's"
    )
    return parser


COMMANDS: dict[str, Command] = {
    "migrate": cmd_migrate,
    "apply": cmd_apply,
    "export": cmd_export,
    "executions": executions.cmd_executions,
    "resume": cmd_bulk,
    "replay": cmd_bulk,
    "token": cmd_token,
    **testing.COMMANDS,
    "credentials": credentials.command,
    "rekey": credentials.rekey,
}

# Commands that read no database: `gateway test` runs its cases on a store of its own.
NO_DATABASE = {"migrate", "test"}


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        return serve.cmd_serve(args, settings)
    if args.command == "worker":
        return serve.cmd_worker(args, settings)
    if args.command == "import":
        return asyncio.run(cmd_import(args, settings))
    if args.command not in NO_DATABASE:
        require_database(settings)
    command: Coroutine[Any, Any, int] = COMMANDS[args.command](args, settings)
    return asyncio.run(command)


def _about_the_database(exc: GatewayError) -> bool:
    """Store errors, lookups and migration state name the database; settings errors do not."""
    if isinstance(exc, ConfigError):
        return "migrat" in str(exc)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    configure(settings.log_level)
    try:
        return _run(args, settings)
    except GatewayError as exc:
        message = str(exc)
        where = database_name(settings)
        if _about_the_database(exc) and where not in message:
            message += f" (database: {where})"
        print(f"error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # `gateway capture` stopped: its capture is closed by now
        return 130


def run() -> Any:
    try:
        sys.exit(main())
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        sys.exit(0)
