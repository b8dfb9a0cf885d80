"""The events bus in one process: a watch's filter and its bound, publishing with nobody
listening, and the one read per batch of changes that every watch shares."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from gateway.service.events import WATCH_BACKLOG, Events, Watch
from gateway.service.reads import ExecutionRecord
from tests.api.client import Statements, data
from tests.support import Gateway, make_settings


@dataclass(frozen=True)
class Row:
    """An entry as a watch sees it: an execution's id and its workflow's."""

    workflow_id: int = 1
    id: uuid.UUID = field(default_factory=uuid.uuid4)


async def test_a_watch_gets_its_workflow_only_in_order() -> None:
    watch: Watch[Row] = Watch(workflow_id=1)
    first, other, second = Row(1), Row(2), Row(1)
    for each in (first, other, second):
        watch.offer(each)

    assert await watch.next() == [first, second]
    assert await watch.next(timeout=0) == []


async def test_the_entries_of_one_read_wake_a_watch_once_with_what_it_wants() -> None:
    watch: Watch[Row] = Watch(workflow_id=1)
    watch.offer_all([Row(2), Row(3)])  # none of its workflow: not woken
    assert await watch.next(timeout=0) == []

    first, second = Row(1), Row(1)
    watch.offer_all([first, Row(2), second])
    assert await watch.next(timeout=0) == [first, second]


async def test_a_newer_read_of_a_waiting_execution_replaces_it() -> None:
    watch: Watch[Row] = Watch(workflow_id=None)
    execution = uuid.uuid4()
    later, newest = Row(), Row(id=execution)
    watch.offer(Row(id=execution))
    watch.offer(later)
    watch.offer(newest)

    # The execution went to the back with its newest read.
    assert await watch.next() == [later, newest]


async def test_a_slow_watch_drops_its_oldest_entries_past_the_backlog() -> None:
    watch: Watch[Row] = Watch(workflow_id=None)
    rows = [Row() for _ in range(WATCH_BACKLOG + 10)]
    for each in rows:
        watch.offer(each)

    assert watch.dropped == 10
    assert await watch.next(timeout=0) == rows[10:]
    assert await watch.next(timeout=0) == []


async def test_a_read_is_taken_as_offered_by_every_watch_and_merged_while_waiting() -> None:
    watches: list[Watch[Row]] = [Watch(workflow_id=1), Watch(workflow_id=1)]
    execution = uuid.uuid4()
    first, second = Row(id=execution), Row()
    read = [first, second]
    for watch in watches:
        watch.offer_read(read)
    taken = [await watch.next(timeout=0) for watch in watches]
    assert taken[0] is read and taken[1] is read  # the read's list itself, not a copy each
    assert [await watch.next(timeout=0) for watch in watches] == [[], []]

    # a second read before the first is taken: one entry per execution, the newest last
    newest, third = Row(id=execution), Row()
    watch = watches[0]
    watch.offer_read([first, second])
    watch.offer_read([newest, third])
    assert await watch.next(timeout=0) == [second, newest, third]


async def test_a_read_beyond_the_backlog_is_cut_to_it() -> None:
    watch: Watch[Row] = Watch(workflow_id=None, backlog=4)
    rows = [Row() for _ in range(6)]
    watch.offer_read(rows)
    assert watch.dropped == 2
    assert await watch.next(timeout=0) == rows[2:]


async def test_a_revocation_wakes_every_watch_with_nothing() -> None:
    events = Events(make_settings("sqlite://unused.db"))
    await events.start()
    assert not events.active

    async with events.watch(None) as everything, events.watch(7) as seven:
        assert events.active and len(events) == 2
        events.revoked()
        for watch in (everything, seven):
            assert await watch.next(timeout=5) == [] and watch.revoked.is_set()

    assert len(events) == 0 and not events.active
    await events.stop()


SYNC = """
key: %s
sync: true
nodes: [{key: done, type: end, config: {endStatus: 1}}]
"""
WORKFLOW_ID = "query ($key: String) { workflow(key: $key) { id } }"


def reads_by_id(statements: Statements) -> list[str]:
    """The statements that read executions by their ids."""
    by_id = ('"id" IN', '"id" = ANY')
    return [
        sql for sql in statements.sql if 'FROM "executions"' in sql and any(w in sql for w in by_id)
    ]


async def until_seen(watch: Watch[ExecutionRecord], count: int) -> list[uuid.UUID]:
    seen: list[uuid.UUID] = []
    async with asyncio.timeout(20):
        while len(seen) < count:
            seen += [row.id for row in await watch.next()]
    return seen


async def test_every_watch_gets_the_rows_of_one_read_per_batch(
    gateway: Gateway, statements: Statements
) -> None:
    await gateway.apply(SYNC % "alpha", SYNC % "beta")
    alpha = int((await data(gateway, WORKFLOW_ID, key="alpha"))["workflow"]["id"])
    events = gateway.runtime.events
    await gateway.post("alpha", json={})  # nobody listens: nothing is read
    assert events.reads == 0

    async with AsyncExitStack() as stack:
        watches = [await stack.enter_async_context(events.watch(alpha)) for _ in range(50)]
        everything = await stack.enter_async_context(events.watch(None))
        statements.sql.clear()
        gone = uuid.uuid4()
        events.publish(gone, alpha, "QUEUED")  # an execution not stored: nothing offered
        first = (await gateway.post("alpha", json={})).headers["x-execution-id"]
        second = (await gateway.post("beta", json={})).headers["x-execution-id"]

        for watch in watches:
            assert [row.id for row in await watch.next(timeout=20)] == [uuid.UUID(first)]
        assert await until_seen(everything, 2) == [uuid.UUID(first), uuid.UUID(second)]

    # Three changes, at most three reads, whatever the number of watches.
    assert 1 <= events.reads <= 3
    assert len(reads_by_id(statements)) == events.reads


async def test_changes_published_together_are_one_read_and_one_list(
    gateway: Gateway, statements: Statements
) -> None:
    await gateway.apply(SYNC % "alpha", SYNC % "beta")
    alpha = int((await data(gateway, WORKFLOW_ID, key="alpha"))["workflow"]["id"])
    beta = int((await data(gateway, WORKFLOW_ID, key="beta"))["workflow"]["id"])
    keys = ["alpha", "beta"] * 2
    ids = [uuid.UUID((await gateway.post(key, json={})).headers["x-execution-id"]) for key in keys]
    await gateway.drain()  # stored; nobody listened: below their changes come again, at once
    events = gateway.runtime.events

    async with events.watch(alpha) as of_alpha, events.watch(None) as everything:
        statements.sql.clear()
        for execution_id, workflow in zip(ids, [alpha, beta] * 2, strict=True):
            events.publish(execution_id, workflow, "RESOLVED")
        events.publish(uuid.uuid4(), alpha, "QUEUED")  # not stored: nothing offered

        assert [row.id for row in await of_alpha.next(timeout=20)] == ids[::2]
        assert [row.id for row in await everything.next(timeout=20)] == ids

    assert events.reads == 1 and len(reads_by_id(statements)) == 1
