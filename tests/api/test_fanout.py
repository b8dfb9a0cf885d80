"""A subscription event made `Shared` (gateway/api/fanout.py) is executed once per operation
text and variable values for every subscription it goes to, through Strawberry's own
`subscribe`; each subscription still gets its own result envelope. With the shortcuts on
and off: the shared execution is not one of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError

from gateway.api.fanout import Shared
from gateway.core import shortcuts
from tests.api.test_execution import CountingContext

resolved: list[str] = []
"""Each call of `Item.detail`, `Item.later` and `Item.broken`, by item name."""


@strawberry.type
class Item:
    name: str
    gate: strawberry.Private[asyncio.Event | None] = None
    """What `later` waits for (set: nothing)."""

    @strawberry.field
    def detail(self) -> str:
        resolved.append(self.name)
        return self.name.upper()

    @strawberry.field
    async def later(self) -> str:
        resolved.append(self.name)
        if self.gate is not None:
            await self.gate.wait()
        return self.name[::-1]

    @strawberry.field
    def broken(self) -> str | None:
        resolved.append(self.name)
        raise ValueError("no detail")


@strawberry.type
class Query:
    ping: str = "pong"


class Feed:
    """What every subscription of the test follows: the events put here."""

    def __init__(self) -> None:
        self.queues: list[asyncio.Queue[list[Item]]] = []

    def put(self, event: list[Item]) -> None:
        for queue in self.queues:
            queue.put_nowait(event)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def items(self, info: strawberry.Info, tag: str = "") -> AsyncGenerator[list[Item], None]:
        queue: asyncio.Queue[list[Item]] = asyncio.Queue()
        info.context["feed"].queues.append(queue)
        while True:
            yield await queue.get()


class CodingSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Rewrites the errors in place, as the gateway's schema does over a WebSocket."""
        errors[:] = [GraphQLError(f"coded: {error.message}", error.nodes) for error in errors]


SCHEMA = CodingSchema(
    query=Query, subscription=Subscription, execution_context_class=CountingContext
)


@pytest.fixture(params=[True, False], ids=["shortcuts", "plain"], autouse=True)
def switch(request: pytest.FixtureRequest) -> Iterator[None]:
    was = shortcuts.enabled()
    shortcuts.configure(request.param)
    resolved.clear()
    CountingContext.built.clear()
    yield
    shortcuts.configure(was)


async def subscribed(feed: Feed, query: str, **variables: Any) -> Any:
    stream = await SCHEMA.subscribe(query, variable_values=variables, context_value={"feed": feed})
    assert not hasattr(stream, "errors"), stream
    return stream


async def opened(feed: Feed, queries: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Subscriptions whose generators are listening (their queues exist)."""
    streams = [await subscribed(feed, query, **variables) for query, variables in queries]
    firsts = [asyncio.ensure_future(anext(stream)) for stream in streams]
    while len(feed.queues) < len(streams):
        await asyncio.sleep(0)  # each generator runs up to its queue (no timing)
    return [(stream, first) for stream, first in zip(streams, firsts, strict=True)]


DETAIL = "subscription ($tag: String) { items(tag: $tag) { name detail } }"
LATER = "subscription { items { later } }"
BROKEN = "subscription { items { name broken } }"
PLAIN = "subscription { items { name } }"


async def test_one_selection_is_executed_once_for_every_subscription() -> None:
    feed = Feed()
    pairs = await opened(feed, [(DETAIL, {"tag": "a"})] * 5 + [(DETAIL, {"tag": "b"})])
    feed.put(Shared([Item(name="x"), Item(name="y")]))
    results = [await first for _, first in pairs]
    expected = {"items": [{"name": "x", "detail": "X"}, {"name": "y", "detail": "Y"}]}
    assert all(result.data == expected and not result.errors for result in results)
    assert resolved == ["x", "y", "x", "y"]  # tag a's five once, tag b's one once
    for stream, _ in pairs:
        await stream.aclose()


async def test_a_plain_list_is_executed_for_each_subscription() -> None:
    feed = Feed()
    pairs = await opened(feed, [(DETAIL, {"tag": "a"})] * 3)
    feed.put([Item(name="x")])
    assert [(await first).data for _, first in pairs] == [
        {"items": [{"name": "x", "detail": "X"}]}
    ] * 3
    assert resolved == ["x", "x", "x"]
    for stream, _ in pairs:
        await stream.aclose()


async def test_an_awaited_selection_is_shared_and_one_subscription_closing_spares_the_rest() -> (
    None
):
    feed = Feed()
    gate = asyncio.Event()
    pairs = await opened(feed, [(LATER, {})] * 3)
    feed.put(Shared([Item(name="abc", gate=gate)]))
    while not resolved:
        await asyncio.sleep(0)  # until the first subscription's execution waits at the gate
    pairs[0][1].cancel()  # that subscription goes before its result is ready
    with pytest.raises(asyncio.CancelledError):
        await pairs[0][1]
    gate.set()
    results = [await first for _, first in pairs[1:]]
    assert [result.data for result in results] == [{"items": [{"later": "cba"}]}] * 2
    assert resolved == ["abc"]
    for stream, _ in pairs[1:]:
        await stream.aclose()


async def test_each_subscription_gets_its_own_errors() -> None:
    feed = Feed()
    pairs = await opened(feed, [(BROKEN, {})] * 3)
    feed.put(Shared([Item(name="x")]))
    results = [await first for _, first in pairs]
    assert resolved == ["x"]
    for result in results:  # rewritten once each, not once more per subscription before it
        assert [error.message for error in result.errors] == ["coded: no detail"]
        assert result.data == {"items": [{"name": "x", "broken": None}]}
    for stream, _ in pairs:
        await stream.aclose()


async def test_a_plain_selection_of_an_event_is_built_in_one_pass() -> None:
    feed = Feed()
    [(stream, first)] = await opened(feed, [(PLAIN, {})])
    feed.put(Shared([Item(name="x"), Item(name="y")]))
    expected = [{"name": "x"}, {"name": "y"}]
    assert (await first).data == {"items": expected}
    # shortcuts off: Strawberry's own context, field by field
    assert CountingContext.built == ([expected] if shortcuts.enabled() else [])
    await stream.aclose()
