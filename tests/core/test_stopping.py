"""Background loops stop between their steps; cancellation is the bounded last resort."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.core.stopping import Stop, stop_task


async def test_a_loop_finishes_its_step_then_returns() -> None:
    stop = Stop()
    in_step, release = asyncio.Event(), asyncio.Event()
    steps: list[str] = []

    async def loop() -> None:
        while not await stop.wait(3600):  # woken by the stop, not by the hour
            pass
        steps.append("asked")

    async def busy_loop() -> None:
        in_step.set()
        await release.wait()  # a query in flight
        steps.append("step finished")
        await stop.wait(3600)

    idle = asyncio.create_task(loop())
    busy = asyncio.create_task(busy_loop())
    await in_step.wait()
    stopping = asyncio.create_task(stop_task(busy, stop))
    await stop_task(idle, stop)
    release.set()
    await stopping

    assert steps == ["asked", "step finished"]
    assert not busy.cancelled() and not idle.cancelled()


async def test_a_loop_that_does_not_return_is_cancelled_after_its_grace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def deaf() -> None:
        await asyncio.Event().wait()  # never looks at the stop

    task = asyncio.create_task(deaf(), name="deaf-loop")
    with caplog.at_level(logging.WARNING, logger="gateway"):
        await stop_task(task, Stop(), grace=0.01)

    assert task.cancelled()
    assert "deaf-loop did not stop within 0.01s: cancelled" in caplog.text


async def test_a_wait_tells_whether_a_stop_was_asked() -> None:
    stop = Stop()
    assert await stop.wait(0.01) is False  # its time ran out
    stop.set()
    assert await stop.wait(3600) is True  # at once
