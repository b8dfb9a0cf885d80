"""The CEL sandbox's workers shared fairly between workflows, and waiting for one bounded."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.core.errors import NodeFailure
from gateway.engine import sandbox

HEAVY = "v.filter(x, x % 2 == 0).size()"  # a tenth of a second or so over 1,000 items
ITEMS = list(range(1_000))


async def evaluate_as(workflow: str, src: str, variables: dict[str, Any]) -> Any:
    sandbox.tenant.set(workflow)  # this task's own context: what the processor sets
    return await sandbox.evaluate(src, variables)


async def test_a_flood_from_one_workflow_does_not_starve_another() -> None:
    await sandbox.evaluate("1", {})  # workers started
    finished: list[str] = []

    async def run(workflow: str, src: str, variables: dict[str, Any]) -> None:
        try:
            await evaluate_as(workflow, src, variables)
        finally:  # a flood evaluation may overrun its time on a loaded machine: still done
            finished.append(workflow)

    flood = [asyncio.create_task(run("hog", HEAVY, {"v": ITEMS})) for _ in range(12)]
    while sum(len(queue) for queue in sandbox._pool.waiting.values()) < 10:
        await asyncio.sleep(0)  # until the flood is queued for the two workers
    await run("other", "v + 1", {"v": 1})
    await asyncio.gather(*flood, return_exceptions=True)

    # first come first served would have run it after all twelve
    assert finished.index("other") <= 4, finished


async def test_too_many_waiting_evaluations_of_one_workflow_fail_clearly() -> None:
    await sandbox.evaluate("1", {})
    calls = [
        asyncio.create_task(evaluate_as("hog", HEAVY, {"v": ITEMS}))
        for _ in range(sandbox.WORKERS + sandbox.MAX_WAITING + 3)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)

    refused = [r for r in results if isinstance(r, NodeFailure) and "already waiting" in str(r)]
    assert len(refused) == 3, results
    assert str(refused[0]).startswith("expression sandbox busy: 16 expressions of this workflow")


@pytest.mark.parametrize("cancel_after", [0, 3])
async def test_a_cancelled_evaluation_gives_its_worker_back(cancel_after: int) -> None:
    await sandbox.evaluate("1", {})
    calls = [asyncio.create_task(evaluate_as("a", HEAVY, {"v": ITEMS})) for _ in range(4)]
    for _ in range(cancel_after):
        await asyncio.sleep(0)
    for call in calls:
        call.cancel()
    await asyncio.gather(*calls, return_exceptions=True)

    assert await evaluate_as("b", "v * 2", {"v": 21}) == 42
