"""`gateway run`, `capture`, `captures` and `test` (docs/testing.md): the commands of test
runs, captured calls and workflow tests, registered by `gateway.cli`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import secrets
import sys
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import orjson

from gateway.cli.output import print_problems, with_store
from gateway.core.clock import utcnow
from gateway.core.errors import DefinitionInvalid, Problem
from gateway.core.settings import Settings
from gateway.security.secrets import SecretBox
from gateway.service import captures, testruns, workflow_tests
from gateway.workflows.apply import trigger_url
from gateway.workflows.documents import read_sources

CAPTURE_POLL = 0.5  # seconds between two reads of a capture's new calls
Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


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
    if args.save_test:
        name = args.name or f"{run.workflow}: {run.origin} answers {run.answer.get('status')}"
        workflow_tests.save_case(Path(args.save_test), workflow_tests.case_from(run, name))
        print(f"saved as a test case in {args.save_test}", file=sys.stderr)
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
    return await with_store(settings, lambda: _test_run(args, settings))


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

    return await with_store(settings, work)


async def cmd_captures(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        target = await testruns.stored_target(args.key, settings, SecretBox.from_settings(settings))
        rows = await captures.workflow_captures(target.workflow.workflow_id, args.limit)
        for call in await captures.calls_of(
            [row.id for row in rows], 0, captures.MAX_CALLS * args.limit
        ):
            _print_call(call, args.json)
        return 0

    return await with_store(settings, work)


async def cmd_test(args: argparse.Namespace, settings: Settings) -> int:
    files, problems = workflow_tests.test_files(args.paths)
    if problems:
        print_problems(DefinitionInvalid(problems))
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


def add_commands(sub: Any) -> None:
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
    run.add_argument("--save-test", metavar="FILE", help="add this run as a case to a test file")
    run.add_argument("--name", help="the saved case's name")

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
    "run": cmd_run,
    "capture": cmd_capture,
    "captures": cmd_captures,
    "test": cmd_test,
}
