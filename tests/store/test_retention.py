from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from gateway.core.clock import utcnow
from gateway.core.stopping import Stop
from gateway.service.housekeeping import Housekeeper
from gateway.store import retention
from gateway.store.models import DedupKey, Execution, ExecutionRequest, Job
from gateway.store.retention import MAX_BATCH, MIN_BATCH, next_batch, prune_executions
from tests.conftest import SettingsFactory
from tests.support import Gateway, running_gateway

FLOWS = (
    "{key: ok, nodes: [{key: a, type: end, config: {endStatus: 1}}]}",
    "{key: dedup, trigger: {deduplicate: {key: '{{$context.body.id}}'}}, nodes: [{key: a, type: end, config: {endStatus: 1}}]}",
)


async def test_old_finished_executions_and_expired_keys_are_pruned(
    settings_factory: SettingsFactory,
) -> None:
    settings = settings_factory(execution_max_age="1d")
    async with running_gateway(settings) as gateway:
        await gateway.apply(*FLOWS)
        old = [(await gateway.post("ok", json={})).headers["x-execution-id"] for _ in range(3)]
        await gateway.post("dedup", json={"id": "k"})
        await gateway.drain()
        long_ago = utcnow() - timedelta(days=2)
        await Execution.filter(id__in=old).update(finished_at=long_ago, created_at=long_ago)
        await DedupKey.all().update(expires_at=long_ago)
        recent = (await gateway.post("ok", json={})).headers["x-execution-id"]
        await gateway.runtime.executor.stop()  # leave one queued: never pruned, whatever its age
        queued = (await gateway.post("ok", json={})).headers["x-execution-id"]
        await Execution.filter(id=queued).update(created_at=long_ago)

        pruned = await Housekeeper(settings).run_once()

        left = set(await Execution.all().values_list("id", flat=True))
        jobs_of_old = await Job.filter(execution_id__in=old).count()
        requests_left = set(await ExecutionRequest.all().values_list("execution_id", flat=True))
    assert pruned == (3, 1)
    assert {str(i) for i in left} >= {recent, queued}
    assert not {str(i) for i in left} & set(old)
    assert jobs_of_old == 0
    assert {str(i) for i in requests_left} == {str(i) for i in left}


@pytest.mark.parametrize(
    ("size", "seconds", "expected"),
    [
        (1000, 0.010, 500),  # past the budget: halved
        (100, 0.001, 200),  # under half of it: doubled
        (100, 0.003, 100),  # within it: kept
        (MIN_BATCH, 1.0, MIN_BATCH),  # never below the floor, however slow
        (MAX_BATCH, 0.0, MAX_BATCH),  # never above the ceiling, however fast
    ],
)
def test_the_next_batch_follows_the_time_the_last_one_took(
    size: int, seconds: float, expected: int
) -> None:
    assert next_batch(size, seconds, budget=0.004) == expected


async def forty_expired(gateway: Gateway) -> None:
    """40 finished executions, all two days old (past a 1-day `execution_max_age`)."""
    await gateway.apply(FLOWS[0])
    for _ in range(40):
        await gateway.post("ok", json={})
    await gateway.drain()
    long_ago = utcnow() - timedelta(days=2)
    await Execution.all().update(finished_at=long_ago, created_at=long_ago)


async def test_a_prune_deletes_in_bounded_batches_up_to_its_limit_or_a_stop(
    settings_factory: SettingsFactory,
) -> None:
    settings = settings_factory(execution_max_age="1d")
    async with running_gateway(settings) as gateway:
        await forty_expired(gateway)

        # a budget nothing fits in: every batch after the first is the smallest
        limited = await prune_executions(86400, limit=20, budget=0.0, first=MIN_BATCH)
        stop = Stop()
        stop.set()
        stopped = await prune_executions(86400, first=MIN_BATCH, stop=stop)
        rest = await prune_executions(86400, budget=0.0, first=MIN_BATCH)

        left = await Execution.all().count()
        requests_left = await ExecutionRequest.all().count()
    assert limited == (20, MIN_BATCH)
    assert stopped == (MIN_BATCH, MIN_BATCH)  # a stop asked ends the pass after its batch
    assert rest == (20 - MIN_BATCH, 20 - MIN_BATCH)
    assert (left, requests_left) == (0, 0)


@pytest.mark.sqlite_only  # on PostgreSQL the prune takes a connection of its own
async def test_a_batch_is_timed_from_when_it_holds_the_connection(
    settings_factory: SettingsFactory,
) -> None:
    settings = settings_factory(execution_max_age="1d")
    async with running_gateway(settings) as gateway:
        await forty_expired(gateway)

        # The prune's clock moves by a second only while another transaction holds the
        # connection the group commit shares. Were that wait the batch's time, the first
        # batch would be over its budget, and the second no larger.
        now = [0.0]
        holding, release = asyncio.Event(), asyncio.Event()

        async def hold() -> None:  # a task of its own: its transaction is not the prune's
            async with in_transaction():
                holding.set()
                await release.wait()

        holder = asyncio.ensure_future(hold())
        await holding.wait()
        pruning = asyncio.ensure_future(
            prune_executions(86400, budget=0.5, first=MIN_BATCH, clock=lambda: now[0])
        )
        await asyncio.sleep(0)  # the prune runs up to the connection's lock
        now[0] += 1.0
        release.set()
        await holder
        deleted, largest = await pruning
        left = await Execution.all().count()
    assert (deleted, left) == (40, 0)
    assert largest == 40 - MIN_BATCH  # the second batch, doubled, took the rest


@pytest.mark.sqlite_only  # the plan's text is SQLite's
async def test_the_select_of_a_batch_stops_at_the_cutoff_in_the_status_index(
    settings_factory: SettingsFactory,
) -> None:
    # Were it bounded by `finished_at` alone, a pass's last batch would read every finished
    # execution kept, past the cutoff, to find that none is expired.
    async with running_gateway(settings_factory()):
        cutoff = utcnow()
        plain = await retention.expired(cutoff).limit(10).explain()
        client = connections.get("default")
        values = [*retention._FINISHED, cutoff, cutoff, 10]
        _, trip = await client.execute_query(f"EXPLAIN QUERY PLAN {retention._SELECT_SQL}", values)
    for plan in (plain, trip):
        (detail,) = [row["detail"] for row in plan]
        assert "(status=? AND created_at<?)" in detail
