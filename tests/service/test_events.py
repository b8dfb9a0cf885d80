"""The events bus in one process: a watch's filter, its bound, and publishing with nobody
listening."""

from __future__ import annotations

import asyncio
import uuid

from gateway.service.events import WATCH_BACKLOG, Change, Events, Watch
from tests.support import make_settings


def change(
    workflow_id: int = 1, status: str = "QUEUED", execution_id: uuid.UUID | None = None
) -> Change:
    return Change(execution_id or uuid.uuid4(), workflow_id, status)


async def test_a_watch_gets_its_workflow_only_in_order() -> None:
    watch = Watch(workflow_id=1)
    first, other, second = change(1), change(2), change(1)
    for each in (first, other, second):
        watch.offer(each)

    assert await watch.next() == [first, second]
    assert await watch.next(timeout=0) == []


async def test_a_newer_change_of_a_waiting_execution_replaces_it() -> None:
    watch = Watch(workflow_id=None)
    execution = uuid.uuid4()
    later = change(status="STARTED")
    watch.offer(change(execution_id=execution))
    watch.offer(later)
    watch.offer(change(status="RESOLVED", execution_id=execution))

    # The execution went to the back with its newest change.
    assert await watch.next() == [later, Change(execution, 1, "RESOLVED")]


async def test_a_slow_watch_drops_its_oldest_changes_past_the_backlog() -> None:
    watch = Watch(workflow_id=None)
    changes = [change() for _ in range(WATCH_BACKLOG + 10)]
    for each in changes:
        watch.offer(each)

    assert watch.dropped == 10
    assert await watch.next(timeout=0) == changes[10:]
    assert await watch.next(timeout=0) == []


async def test_publishing_reaches_open_watches_only_and_costs_nothing_unheard() -> None:
    events = Events(make_settings("sqlite://unused.db"))
    await events.start()
    assert not events.active
    events.publish(uuid.uuid4(), 1, "QUEUED")  # nobody: dropped at once

    async with events.watch(None) as watch:
        assert events.active and len(events) == 1
        published = uuid.uuid4()
        events.publish(published, 7, "STARTED")
        assert await watch.next(timeout=0) == [Change(published, 7, "STARTED")]
        events.revoked()
        assert await watch.next(timeout=5) == [] and watch.revoked.is_set()

    assert len(events) == 0 and not events.active
    await events.stop()


async def test_a_captured_call_wakes_its_capture_watches_only() -> None:
    events = Events(make_settings("sqlite://unused.db"))
    await events.start()
    async with events.watch_capture(5) as five, events.watch_capture(6) as six:
        assert len(events) == 2
        events.captured(5)
        assert five.is_set() and not six.is_set()
    assert len(events) == 0
    events.captured(5)  # nobody watches: nothing to wake


async def test_a_captured_call_reaches_another_process_through_redis(redis_url: str) -> None:
    prefix = f"events-{uuid.uuid4().hex}"
    listening = Events(
        make_settings("sqlite://unused.db", redis_url=redis_url, redis_prefix=prefix)
    )
    recording = Events(
        make_settings("sqlite://unused.db", redis_url=redis_url, redis_prefix=prefix)
    )
    await listening.start()
    await recording.start()
    try:
        async with listening.watch_capture(5) as woken:  # subscribed once the block starts
            recording.captured(6)
            recording.captured(5)
            await asyncio.wait_for(woken.wait(), timeout=10)
    finally:
        await recording.stop()
        await listening.stop()
