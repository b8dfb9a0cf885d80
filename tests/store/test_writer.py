"""The group-committed writer, through its public API: write, write_soon, settled, stop."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from gateway.core import shortcuts
from gateway.core.clock import utcnow
from gateway.core.errors import Conflict
from gateway.core.ids import new_id
from gateway.core.records import JobRecord
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.store.finishes import FinishExecution
from gateway.store.models import Execution, Job
from gateway.store.operations import ClaimBatch, NewExecution
from gateway.store.writer import BACKLOG_COMMITS, ExecutionWriter
from tests.api.client import Statements
from tests.conftest import SettingsFactory
from tests.support import Gateway, running_gateway

QUEUED_ONLY = """
key: queued
sync: false
nodes: [{key: first, type: end, config: {endStatus: 1}}]
"""


async def a_version(gateway: Gateway) -> tuple[int, int]:
    """(workflow id, version id) of an async workflow whose executions stay QUEUED."""
    await gateway.apply(QUEUED_ONLY)
    first = await Execution.get(id=(await gateway.post("queued")).headers["x-execution-id"])
    return first.workflow_id, first.version_id


def new(version: tuple[int, int], execution_id: uuid.UUID | None = None) -> NewExecution:
    return NewExecution(
        execution_id or new_id(),
        *version,
        ExecutionStatus.QUEUED,
        {"n": 1},
        b"{}",
        utcnow(),
    )


async def test_writes_queued_during_commits_are_each_committed_once(
    settings_factory: SettingsFactory,
) -> None:
    # Twenty callers each write one execution after another: every write after the first is
    # queued while other commits run.
    async with running_gateway(settings_factory(executor_concurrency=0)) as gateway:
        version = await a_version(gateway)
        writer = ExecutionWriter(max_batch=7)
        await writer.start()
        written: list[uuid.UUID] = []

        async def caller() -> None:
            for _ in range(25):
                op = new(version)
                await writer.write(op)
                assert await Execution.exists(id=op.id)  # committed before it resolved
                written.append(op.id)

        try:
            await asyncio.gather(*(caller() for _ in range(20)))
        finally:
            await writer.stop()
        stored = await Execution.filter(id__in=written).values_list("id", flat=True)

    assert len(written) == 500 and set(stored) == set(written)


async def test_stop_commits_what_is_pending(settings_factory: SettingsFactory) -> None:
    async with running_gateway(settings_factory(executor_concurrency=0)) as gateway:
        version = await a_version(gateway)
        writer = ExecutionWriter()
        await writer.start()
        ops = [new(version) for _ in range(30)]
        futures = [writer.write_soon(op) for op in ops]
        await writer.stop()
        assert all(f.done() and f.exception() is None for f in futures)
        assert await Execution.filter(id__in=[op.id for op in ops]).count() == 30
        late = new(version)  # stopped: a write commits on its own
        await writer.write(late)
        assert await Execution.exists(id=late.id)


async def test_a_bad_write_fails_alone(settings_factory: SettingsFactory) -> None:
    # A batch that fails is rolled back whole; its operations are then retried one by one,
    # so only the bad one (a second execution with the same id) fails.
    async with running_gateway(settings_factory(executor_concurrency=0)) as gateway:
        version = await a_version(gateway)
        writer = gateway.runtime.writer
        same_id = new_id()
        outcomes = await asyncio.gather(
            writer.write_soon(new(version, same_id)),
            writer.write_soon(new(version)),
            writer.write_soon(new(version, same_id)),
            return_exceptions=True,
        )
        queued = await Execution.filter(status=ExecutionStatus.QUEUED).count()

    assert [isinstance(o, Conflict) for o in outcomes] == [False, False, True]
    assert queued == 3  # the first call's and the two good writes


async def test_the_writer_reports_a_backlog_until_it_has_committed(gateway: Gateway) -> None:
    # Sync answers do not wait for their record's commit unless the writer is this far
    # behind: the backlog, and the memory it holds, stay bounded.
    writer = ExecutionWriter(max_batch=2)
    await writer.start()
    try:
        count = BACKLOG_COMMITS * writer.max_batch
        queued = [writer.write_soon(ClaimBatch([new_id()])) for _ in range(count - 1)]
        early = writer.backlogged()
        queued.append(writer.write_soon(ClaimBatch([new_id()])))
        behind = writer.backlogged()
        await writer.settled()
        assert not early and behind and not writer.backlogged()
        assert [f.result() for f in queued] == [[]] * count  # nothing was queued to claim
    finally:
        await writer.stop()


async def test_finishes_in_one_batch_apply_only_to_executions_still_claimed(
    settings_factory: SettingsFactory,
) -> None:
    # Finishes are written many to a statement: one whose execution was canceled while it
    # ran leaves that execution (and its jobs) alone, the others land.
    async with running_gateway(settings_factory(executor_concurrency=0)) as gateway:
        await gateway.apply(QUEUED_ONLY)
        ids = [(await gateway.post("queued")).headers["x-execution-id"] for _ in range(3)]
        writer = gateway.runtime.writer
        claimed = await writer.write(ClaimBatch([uuid.UUID(i) for i in ids], lease=30))
        await Execution.filter(id=ids[1]).update(status=ExecutionStatus.CANCELED)
        now = utcnow()
        for claim in claimed:
            job = JobRecord("first", "end", now, JobStatus.RESOLVED, {"n": 1}, now)
            writer.write_soon(
                FinishExecution(
                    claim.id,
                    ExecutionStatus.RESOLVED,
                    now,
                    jobs=[job],
                    attempt=claim.attempts,
                    fresh=True,
                )
            )
        await writer.settled()
        rows = {str(e.id): e for e in await Execution.filter(id__in=ids)}
        jobs = await Job.filter(execution_id__in=ids).values_list("execution_id", flat=True)

    assert {str(c.id) for c in claimed} == set(ids)
    assert [rows[i].status for i in ids] == ["RESOLVED", "CANCELED", "RESOLVED"]
    assert rows[ids[0]].finished_at is not None and rows[ids[0]].lease_until is None
    assert sorted(str(j) for j in jobs) == sorted([ids[0], ids[2]])


@pytest.mark.sqlite_only
@pytest.mark.parametrize("on", [True, False], ids=["shortcuts", "plain"])
async def test_a_common_commit_is_one_trip_while_the_shortcuts_are_on(
    settings_factory: SettingsFactory, statements: Statements, on: bool
) -> None:
    # New executions, claims and plain finishes are written in one call to SQLite's thread
    # (no statement goes through Tortoise); with the shortcuts off, through Tortoise.
    was = shortcuts.enabled()
    try:
        async with running_gateway(settings_factory(executor_concurrency=0, shortcuts=on)) as gw:
            version = await a_version(gw)
            statements.sql.clear()
            await asyncio.gather(*(gw.runtime.writer.write_soon(new(version)) for _ in range(3)))
            assert await Execution.filter(status=ExecutionStatus.QUEUED).count() == 4
            inserts = [sql for sql in statements.sql if sql.lstrip().startswith("INSERT")]
            assert bool(inserts) is not on
    finally:
        shortcuts.configure(was)


async def test_a_claim_takes_what_its_claimer_knows_and_reads_the_rest(
    settings_factory: SettingsFactory,
) -> None:
    # The embedded executor keeps the context and raw body of the calls it accepted: their
    # claim does not read them back. Executions it did not accept are read in full.
    async with running_gateway(settings_factory(executor_concurrency=0)) as gateway:
        await gateway.apply(QUEUED_ONLY)
        ids = [
            uuid.UUID((await gateway.post("queued", json={"n": n})).headers["x-execution-id"])
            for n in range(3)
        ]
        mine = ({"body": {"n": 0}, "kept": True}, b"kept in memory")
        claimed = await gateway.runtime.writer.write(
            ClaimBatch(ids, lease=30, known={ids[0]: mine})
        )
    by_id = {c.id: c for c in claimed}
    assert set(by_id) == set(ids) and all(c.attempts == 1 for c in claimed)
    assert (by_id[ids[0]].context, by_id[ids[0]].raw_body) == mine
    assert [by_id[i].context["body"] for i in ids[1:]] == [{"n": 1}, {"n": 2}]
    assert [by_id[i].raw_body for i in ids[1:]] == [b'{"n":1}', b'{"n":2}']
