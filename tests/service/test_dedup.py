"""De-duplication (docs/executions.md, De-duplication): a repeat inside the window gets the first call's answer and
`X-Execution-Id`, and runs nothing — also when the repeats arrive at the same time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gateway.core.clock import utcnow
from gateway.core.errors import DefinitionInvalid
from gateway.store.models import DedupKey
from tests.support import Gateway

ASYNC = """
key: events
trigger:
  deduplicate: {key: "{{$context.headers.x-delivery}}", window: 3600}
  response: {statusCode: 202, body: {accepted: "{{$context.body.n}}"}}
nodes: [{key: done, type: end, config: {endStatus: 1}}]
"""

SYNC = """
key: orders
sync: true
trigger:
  deduplicate: {key: "{{$context.body.order.id}}"}
nodes:
  - {key: answer, type: response, config: {statusCode: 201, body: {order: "{{$context.body.order.id}}", n: "{{$context.body.n}}"}}}
"""


async def test_a_repeat_gets_the_first_answer_and_runs_nothing(gateway: Gateway) -> None:
    await gateway.apply(ASYNC)

    first = await gateway.post("events", json={"n": 1}, headers={"x-delivery": "d-1"})
    repeat = await gateway.post("events", json={"n": 2}, headers={"x-delivery": "d-1"})
    other = await gateway.post("events", json={"n": 3}, headers={"x-delivery": "d-2"})
    await gateway.drain()

    assert (first.status_code, first.json()) == (202, {"accepted": 1})
    assert (repeat.status_code, repeat.json()) == (202, {"accepted": 1})  # the first's answer
    assert repeat.headers["x-execution-id"] == first.headers["x-execution-id"]
    assert other.headers["x-execution-id"] != first.headers["x-execution-id"]
    assert len(await gateway.executions("events")) == 2


async def test_concurrent_duplicates_make_one_execution(gateway: Gateway) -> None:
    await gateway.apply(ASYNC)

    answers = await asyncio.gather(
        *(gateway.post("events", json={"n": n}, headers={"x-delivery": "same"}) for n in range(20))
    )
    await gateway.drain()

    assert {a.status_code for a in answers} == {202}
    assert len({a.headers["x-execution-id"] for a in answers}) == 1
    assert len({a.text for a in answers}) == 1
    [execution] = await gateway.executions("events")
    assert execution["status"] == "RESOLVED"


async def test_a_call_without_a_key_is_never_a_duplicate(gateway: Gateway) -> None:
    await gateway.apply(ASYNC)

    answers = [await gateway.post("events", json={"n": n}) for n in range(3)]

    assert len({a.headers["x-execution-id"] for a in answers}) == 3


async def test_after_the_window_the_key_is_new_again(gateway: Gateway) -> None:
    await gateway.apply(ASYNC)
    first = await gateway.post("events", json={"n": 1}, headers={"x-delivery": "d-1"})
    await DedupKey.all().update(expires_at=utcnow() - timedelta(seconds=1))  # time passes

    later = await gateway.post("events", json={"n": 2}, headers={"x-delivery": "d-1"})

    assert later.headers["x-execution-id"] != first.headers["x-execution-id"]
    assert later.json() == {"accepted": 2}
    assert await DedupKey.all().count() == 1  # the expired key was replaced


async def test_concurrent_sync_duplicates_share_the_first_answer(gateway: Gateway) -> None:
    await gateway.apply(SYNC)

    answers = await asyncio.gather(
        *(gateway.post("orders", json={"order": {"id": "o-9"}, "n": n}) for n in range(10))
    )

    assert {a.status_code for a in answers} == {201}
    assert len({a.headers["x-execution-id"] for a in answers}) == 1
    assert len({a.text for a in answers}) == 1
    assert len(await gateway.executions("orders")) == 1


@pytest.mark.parametrize(
    ("option", "field"),
    [
        ('{key: "same for all"}', "trigger.deduplicate.key"),  # constant: everything dups
        ('{key: "{{$jobsMapByNodeKey.x}}"}', "trigger.deduplicate.key"),  # nothing ran yet
        ('{key: "{{$context.body.id}}", window: 0}', "trigger.deduplicate.window"),
        ('{key: "{{$context.body.id}}", size: 3}', "trigger.deduplicate.size"),  # unknown
        ('"{{$context.body.id}}"', "trigger.deduplicate"),  # not a mapping
    ],
)
async def test_bad_options_are_refused_at_save(gateway: Gateway, option: str, field: str) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        await gateway.apply(f"{{key: wf, trigger: {{deduplicate: {option}}}}}")

    assert [p.field for p in caught.value.problems] == [field]
