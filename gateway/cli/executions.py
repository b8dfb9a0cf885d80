"""`gateway executions`: list recent executions, show one, replay one."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import uuid
from typing import Any

import orjson

from gateway.cli.output import with_store
from gateway.core.errors import NotFound
from gateway.core.settings import Settings
from gateway.core.statuses import ExecutionStatus
from gateway.service import executions
from gateway.service.runtime import Runtime


def add_parser(sub: Any) -> None:
    ex = sub.add_parser("executions", help="list recent executions; show or replay one")
    ex.add_argument("--workflow", metavar="KEY")
    ex.add_argument("--status", choices=[s.value for s in ExecutionStatus])
    ex.add_argument("--limit", type=int, default=20)
    ex.add_argument("--jobs", action="store_true", help="include each execution's jobs")
    ex.add_argument("--json", action="store_true", help="a JSON array")
    actions = ex.add_subparsers(dest="action", metavar="{show,replay}")
    show = actions.add_parser("show", help="one execution: answer, request and jobs")
    show.add_argument("id", metavar="ID")
    show.add_argument("--json", action="store_true", help="a JSON object")
    replay = actions.add_parser(
        "replay", help="run an execution's request again on its workflow's current version"
    )
    replay.add_argument("id", metavar="ID")
    replay.add_argument(
        "--again", action="store_true", help="a new replay even when it was replayed before"
    )
    replay.add_argument(
        "--fresh-key", action="store_true", help="new Idempotency-Keys, not the original's"
    )


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _line(row: dict[str, Any]) -> str:
    return (
        f"{row['id']}  {row['workflow']:<24} {row['status']:<9} "
        f"{row['responseStatus'] or '-':<4} {row['createdAt']}"
    )


def _job_lines(jobs: list[dict[str, Any]]) -> list[str]:
    if not jobs:
        return ["    (no jobs)"]
    return [
        f"    {job['nodeKey']:<20} {job['nodeType']:<16} {job['status']:<9} "
        + orjson.dumps(job["result"]).decode()[:80]
        for job in jobs
    ]


def _execution_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(f"no execution with id {text} (an id is a UUID)") from None


def _print_one(item: dict[str, Any]) -> None:
    print(_line(item))
    for name in ("error", "reason", "replayOf"):
        if item.get(name):
            print(f"  {name}: {item[name]}")
    if item["response"] is not None:
        print(f"  response: {orjson.dumps(item['response']).decode()}")
    if item["request"] is not None:
        print(f"  request: {orjson.dumps(item['request']).decode()}")
    print("  jobs:")
    print("\n".join(_job_lines(item["jobs"])))


async def _list(args: argparse.Namespace) -> int:
    rows = await executions.recent(
        workflow_key=args.workflow, status=args.status, limit=args.limit, with_jobs=args.jobs
    )
    if args.json:
        print(_json(rows))
        return 0
    if not rows:
        print("no executions", file=sys.stderr)
    for row in rows:
        print(_line(row))
        if args.jobs:
            print("\n".join(_job_lines(row["jobs"])))
    return 0


async def _replay(execution_id: uuid.UUID, args: argparse.Namespace, settings: Settings) -> int:
    """The replay runs in this process with the embedded executor (or goes to the workers
    when GATEWAY_REDIS_URL is set); its result is shown. Replayed before (and no `--again`),
    the earlier replay is shown."""
    runtime = Runtime(dataclasses.replace(settings, workflows_dir=None))
    await runtime.start()
    try:
        row, created = await executions.replay(
            execution_id,
            runtime.executor,
            runtime.events,
            again=args.again,
            fresh_key=args.fresh_key,
        )
        if created and not settings.redis_url:
            await runtime.executor.join()
        item = await executions.one(row.id)
    finally:
        await runtime.stop()
    if created:
        print(f"replayed {execution_id} as {row.id}")
    else:
        print(f"{execution_id} was replayed before as {row.id} (--again for another replay)")
    _print_one(item)
    return 0


async def cmd_executions(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "replay":
        return await _replay(_execution_id(args.id), args, settings)

    async def work() -> int:
        if args.action != "show":
            return await _list(args)
        item = await executions.one(_execution_id(args.id))
        if args.json:
            print(_json(item))
        else:
            _print_one(item)
        return 0

    return await with_store(settings, work)
