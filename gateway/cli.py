"""`gateway`: serve, migrate, apply, export, import and inspect executions
(docs/documents.md).

Each command translates its arguments into calls on the same service functions the server
uses. Exit codes: 0 done, 1 refused (validation problems, unreachable database), 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import secrets
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import orjson
import uvloop

from gateway.core.clock import utcnow
from gateway.core.errors import ConfigError, DefinitionInvalid, GatewayError, Problem
from gateway.core.logs import configure
from gateway.core.settings import Settings, load_settings
from gateway.core.statuses import ExecutionStatus
from gateway.core.tuning import tune_process
from gateway.security.secrets import SecretBox
from gateway.service import captures, database, executions, testruns, tokens, workflow_tests
from gateway.service.worker import serve_worker
from gateway.workflows.apply import apply_documents, prepare, trigger_url
from gateway.workflows.documents import read_sources
from gateway.workflows.export import dump_yaml, export_documents
from gateway.workflows.nocobase import Conversion, convert

CAPTURE_POLL = 0.5  # seconds between two reads of a capture's new calls
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


def _json_line(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, default=str).decode() + "\n")
    sys.stdout.flush()


def _short(value: Any, width: int = 160) -> str:
    text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= width else text[: width - 1] + "…"


def _given(args: argparse.Namespace) -> testruns.TestRequest:
    headers: dict[str, str] = {}
    for header in args.header:
        name, colon, value = header.partition(":")
        if not colon or not name.strip():
            raise DefinitionInvalid([Problem("--header", f"{header!r} is not 'Name: value'")])
        headers[name.strip()] = value.strip()
    raw = Path(args.raw_body).read_text() if args.raw_body else None
    body = orjson.loads(Path(args.body).read_bytes()) if args.body else None
    return testruns.given_request(args.method, headers, args.query, body, raw, bool(args.body))


def _print_run(run: testruns.TestRun) -> None:
    version = f"version {run.version}" if run.version is not None else "unsaved document"
    kind = "sync" if run.sync else "async"
    print(
        f"{run.workflow} ({version}, {kind}) · {run.origin} · authentication {run.authentication}"
    )
    answer = run.answer
    print(f"{run.status} → answer {answer['status']} {_short(answer['body'])}")
    if run.error:
        print(f"error: {run.error}")
    depth: dict[str, int] = {}
    for node in run.nodes:
        level = depth.get(node["upstream"], -1) + 1 if node["upstream"] else 0
        depth[node["key"]] = level
        pad = "  " * (level + 1)
        extras = [f"{node['durationMs']} ms"]
        if node["branch"] is not None:
            extras.append(f"branch {node['branch']}")
        if node["note"]:
            extras.append(node["note"])
        print(f"{pad}{node['key']}  {node['type']}  {node['status']}  {'  '.join(extras)}")
        if node["request"]:
            request = node["request"]
            print(
                f"{pad}    would send {request['method']} {request['url']} {request['body'] or ''}"
            )
        print(f"{pad}    result {_short(node['result'])}")


async def _test_run(args: argparse.Namespace, settings: Settings) -> int:
    request = None if args.captured or args.execution else _given(args)
    workflow_id = None
    if args.captured:
        request, workflow_id = await testruns.captured_request(args.captured)
    elif args.execution:
        request, workflow_id = await testruns.execution_request(uuid.UUID(args.execution))
    assert request is not None
    box = SecretBox.from_settings(settings)
    if args.document:
        sources, problems = read_sources([args.document])
        if problems or len(sources) != 1:
            raise DefinitionInvalid(problems or [Problem(args.document, "must hold one document")])
        target = testruns.document_target(sources[0], settings, box)
    else:
        key = args.key or await testruns.workflow_key_of(workflow_id or 0)
        target = await testruns.stored_target(key, settings, box)
    tester = testruns.Tester(settings, settings.template_env_values)
    async with testruns.sending(settings) if args.side_effects else contextlib.nullcontext():
        run = await tester.run(
            target,
            request,
            side_effects=args.side_effects,
            skip_authentication=args.skip_authentication,
        )
    if args.json:
        sys.stdout.write(orjson.dumps(run.as_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _print_run(run)
    return 0


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.key and not args.document and not args.captured and not args.execution:
        print("error: give KEY, --document, --captured or --execution", file=sys.stderr)
        return 2
    if args.document and not (args.captured or args.execution):
        # an unsaved document and a given request: no database needed; secrets sealed with
        # a key made for this run
        key = secrets.token_urlsafe(32)
        return await _test_run(args, dataclasses.replace(settings, secret_key=key))
    return await _with_store(settings, lambda: _test_run(args, settings))


def _print_call(call: captures.CallRow, as_json: bool) -> None:
    if as_json:
        _json_line(
            {
                "id": call.id,
                "captureId": call.capture_id,
                "receivedAt": call.received_at.isoformat(),
                "method": call.method,
                "path": call.path,
                "headers": call.headers,
                "query": call.query,
                "body": call.body.decode("utf-8", errors="replace"),
                "size": call.size,
                "truncated": call.truncated,
                "answerStatus": call.answer_status,
            }
        )
        return
    query = f"?{call.query}" if call.query else ""
    when = call.received_at.isoformat()
    print(f"#{call.id}  {when}  {call.method} {call.path}{query}  → {call.answer_status}")
    for name, value in call.headers.items():
        print(f"  {name}: {value}")
    body = call.body.decode("utf-8", errors="replace")
    print(f"  {body}{' …(truncated)' if call.truncated else ''}")
    sys.stdout.flush()


async def cmd_capture(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        target = await testruns.stored_target(args.key, settings, SecretBox.from_settings(settings))
        workflow = target.workflow
        capture = await captures.Captures(settings).open_capture(
            workflow.workflow_id, args.count, args.seconds
        )
        url = trigger_url(settings, target.trigger_key or "")
        print(
            f"capture {capture.id}: listening for {capture.max_calls} call(s) to {url} "
            f"until {capture.expires_at.isoformat()} (Ctrl-C stops)",
            file=sys.stderr,
            flush=True,
        )
        seen = 0
        try:
            while True:
                for call in await captures.calls_of([capture.id], seen):
                    _print_call(call, args.json)
                    seen = call.id
                current = await captures.get_capture(capture.id)
                if current is None or not current.is_open(utcnow()):
                    for call in await captures.calls_of([capture.id], seen):
                        _print_call(call, args.json)
                    return 0
                await asyncio.sleep(CAPTURE_POLL)
        finally:
            await captures.close_capture(capture.id)

    return await _with_store(settings, work)


async def cmd_captures(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        target = await testruns.stored_target(args.key, settings, SecretBox.from_settings(settings))
        rows = await captures.workflow_captures(target.workflow.workflow_id, args.limit)
        for call in await captures.calls_of(
            [row.id for row in rows], 0, captures.MAX_CALLS * args.limit
        ):
            _print_call(call, args.json)
        return 0

    return await _with_store(settings, work)


async def cmd_test(args: argparse.Namespace, settings: Settings) -> int:
    files, problems = workflow_tests.test_files(args.paths)
    if problems:
        _print_problems(DefinitionInvalid(problems))
        return 1
    if not files:
        print("error: no test files (*.test.yaml) found", file=sys.stderr)
        return 1
    suite = workflow_tests.WorkflowTests(settings)
    passed = failed = 0
    for file in files:
        try:
            results = await suite.run_file(file)
        except DefinitionInvalid as exc:
            print(f"ERROR {file}")
            for problem in exc.problems:
                print(f"  - {problem}")
            failed += 1
            continue
        for result in results:
            if args.json:
                _json_line(
                    {
                        "file": result.file,
                        "name": result.name,
                        "passed": result.passed,
                        "failures": result.failures,
                    }
                )
            else:
                print(f"{'PASS' if result.passed else 'FAIL'} {result.file}: {result.name}")
                for failure in result.failures:
                    print(f"  - {failure}")
            passed += result.passed
            failed += not result.passed
    print(f"{passed} passed, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


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

    token = sub.add_parser("token", help="GraphQL admin tokens (only their SHA-256 is stored)")
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a token and print it, once")
    create.add_argument("--name", default="", help="what the token is for")
    actions.add_parser("list", help="list tokens (ids, names, last use; never the tokens)")
    revoke = actions.add_parser("revoke", help="delete a token")
    revoke.add_argument("id", type=int)
    _testing_commands(sub)
    return parser


def _testing_commands(sub: Any) -> None:
    run = sub.add_parser("run", help="test-run a workflow and print its trace (no side effects)")
    run.add_argument("key", nargs="?", metavar="KEY", help="a stored workflow")
    run.add_argument("--document", metavar="FILE", help="run this document, not a stored one")
    run.add_argument("--body", metavar="FILE", help="a JSON body")
    run.add_argument("--raw-body", metavar="FILE", help="a body sent as it is")
    run.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'")
    run.add_argument("--query", metavar="Q", help="a query string: a=1&b=2")
    run.add_argument("--method", default="POST")
    run.add_argument("--captured", type=int, metavar="ID", help="a captured call's request")
    run.add_argument("--execution", metavar="ID", help="a past execution's request")
    run.add_argument("--side-effects", action="store_true", help="send request nodes")
    run.add_argument("--skip-authentication", action="store_true")
    run.add_argument("--json", action="store_true", help="the trace as JSON")

    capture = sub.add_parser("capture", help="print the next calls to a workflow's URL")
    capture.add_argument("key", metavar="KEY")
    capture.add_argument("--count", type=int, default=captures.DEFAULT_CALLS)
    capture.add_argument("--seconds", type=int, default=captures.DEFAULT_SECONDS)
    capture.add_argument("--json", action="store_true", help="one JSON object a line")

    listed = sub.add_parser("captures", help="list the calls captured for a workflow")
    listed.add_argument("key", metavar="KEY")
    listed.add_argument("--limit", type=int, default=5, help="of the latest N captures")
    listed.add_argument("--json", action="store_true", help="one JSON object a line")

    test = sub.add_parser("test", help="run the workflow tests in *.test.yaml files")
    test.add_argument("paths", nargs="+", metavar="PATH", help="test files, workflows, dirs")
    test.add_argument("--json", action="store_true", help="one JSON object a case")


COMMANDS: dict[str, Command] = {
    "migrate": cmd_migrate,
    "apply": cmd_apply,
    "export": cmd_export,
    "import": cmd_import,
    "executions": cmd_executions,
    "token": cmd_token,
    "run": cmd_run,
    "capture": cmd_capture,
    "captures": cmd_captures,
    "test": cmd_test,
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
    except KeyboardInterrupt:  # `gateway capture` stopped: its capture is closed by now
        return 130


def run() -> Any:
    try:
        sys.exit(main())
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        sys.exit(0)
