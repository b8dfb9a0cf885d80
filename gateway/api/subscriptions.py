"""GraphQL subscriptions over graphql-transport-ws at `/graphql` (docs/api.md,
Subscriptions): executions as they are created and change status, and a capture's calls
as they are recorded, from the events bus (service/events.py).

A subscription sends each execution as the server read it after its change, one read for
every subscription of the process (service/events.py): `executionChanged` one message per
execution, `executionsChanged` one message per batch (what waited for it, as a list); a
change whose execution is gone (not kept) sends nothing. Subscriptions that take the same
rows get the same list, which each selection executes once for all of them
(api/fanout.py). The connection's token is checked
again every `RECHECK` seconds, and at once when a token is revoked through the API; once
refused, the socket is closed with 4403.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncGenerator
from contextlib import aclosing, suppress

import strawberry

from gateway.api.context import Connection, Info
from gateway.api.errors import NOT_FOUND, UNAUTHENTICATED, ApiError
from gateway.api.fanout import Shared
from gateway.api.loaders import Loaders
from gateway.api.queries import item_id
from gateway.api.testing import CapturedCall
from gateway.api.types import Execution
from gateway.core.clock import utcnow
from gateway.service import captures
from gateway.service.reads import ExecutionRecord

RECHECK = 30.0  # seconds between checks of an open connection's token


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "Executions as they are created and each time their status changes (of one "
            "workflow, or all); a slow reader skips changes (docs/api.md, Subscriptions)"
        )
    )
    async def execution_changed(
        self, info: Info, workflow_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Execution, None]:
        async with aclosing(_changed(info, workflow_id)) as changes:
            async for rows in changes:
                for row in rows:
                    info.context.loaders = Loaders()  # what they load is read afresh
                    yield Execution.from_row(row)

    @strawberry.subscription(
        description=(
            "Executions that were created or changed status since the last message (of one "
            "workflow, or all), a list per message, oldest change first; a slow reader "
            "skips changes (docs/api.md, Subscriptions)"
        )
    )
    async def executions_changed(
        self, info: Info, workflow_id: strawberry.ID | None = None
    ) -> AsyncGenerator[list[Execution], None]:
        async with aclosing(_changed(info, workflow_id)) as changes:
            async for rows in changes:
                if rows:
                    info.context.loaders = Loaders()  # what they load is read afresh
                    yield _batch(rows)

    @strawberry.subscription(
        description=(
            "A capture's calls as they are recorded, oldest first: those already recorded "
            "(after `after`, a call id) at once, then each new one; it completes when the "
            "capture has ended (closed, expired or full) and its last call was sent"
        )
    )
    async def captured_calls(
        self, info: Info, capture_id: strawberry.ID, after: strawberry.ID | None = None
    ) -> AsyncGenerator[CapturedCall, None]:
        connection = info.context.connection
        if connection is None:
            raise ApiError(UNAUTHENTICATED, "subscriptions are served over WebSocket only")
        wanted = item_id(capture_id, "captureId", what="capture")
        last = item_id(after, "after", what="captured call") if after is not None else 0
        if await captures.get_capture(wanted) is None:
            raise ApiError(NOT_FOUND, f"no capture {capture_id}")
        async with info.context.runtime.events.watch_capture(wanted) as woken:
            while True:
                woken.clear()  # before reading: a call recorded from here on wakes us again
                capture = await captures.get_capture(wanted)
                for row in await captures.calls_of([wanted], after=last):
                    last = row.id
                    yield CapturedCall.from_row(row)
                if capture is None or not capture.is_open(utcnow()):
                    return  # read after the capture's state: no call it recorded is missed
                # woken by a new call or a close; else at its expiry (or the token's check)
                left = (capture.expires_at - utcnow()).total_seconds()
                with suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), timeout=max(0.0, min(RECHECK, left)))
                await _still_accepted(connection)


_CONVERTED: dict[int, tuple[ExecutionRecord, Execution]] = {}
_CONVERTED_LIMIT = 4096
_BATCHES: OrderedDict[tuple[int, ...], tuple[list[ExecutionRecord], Shared]] = OrderedDict()
_BATCHES_LIMIT = 64  # the batches of the last reads, each taken by every watch of a workflow


def _batch(rows: list[ExecutionRecord]) -> Shared:
    """The rows as one event for every subscription that takes the same rows (the same
    objects: those of one read, api/fanout.py); holding the rows keeps their `id()`s theirs."""
    key = tuple(map(id, rows))
    held = _BATCHES.get(key)
    if held is not None:
        return held[1]
    batch = Shared(_converted(row) for row in rows)
    _BATCHES[key] = (rows, batch)
    if len(_BATCHES) > _BATCHES_LIMIT:
        _BATCHES.popitem(last=False)
    return batch


def _converted(row: ExecutionRecord) -> Execution:
    """The row as a GraphQL object, made once for every subscription it is offered to (a
    read's row is one object for all of them; holding it keeps its `id()` its own)."""
    held = _CONVERTED.get(id(row))
    if held is not None and held[0] is row:
        return held[1]
    if len(_CONVERTED) >= _CONVERTED_LIMIT:
        _CONVERTED.clear()
    execution = Execution.from_row(row)
    _CONVERTED[id(row)] = (row, execution)
    return execution


async def _changed(
    info: Info, workflow_id: strawberry.ID | None
) -> AsyncGenerator[list[ExecutionRecord], None]:
    """The executions of a watch, as they wait for the listener (one read's or more), with
    the connection's token checked again every `RECHECK` seconds and at a revocation."""
    connection = info.context.connection
    if connection is None:
        raise ApiError(UNAUTHENTICATED, "subscriptions are served over WebSocket only")
    wanted = item_id(workflow_id, "workflowId") if workflow_id is not None else None
    loop = asyncio.get_running_loop()
    checked = loop.time()
    async with info.context.runtime.events.watch(wanted) as watch:
        while True:
            rows = await watch.next(timeout=RECHECK)
            if watch.revoked.is_set() or loop.time() - checked >= RECHECK:
                watch.revoked.clear()
                checked = loop.time()
                await _still_accepted(connection)
            yield rows


async def _still_accepted(connection: Connection) -> None:
    """Close the socket (4403) when the connection's token is refused now."""
    if not await connection.accepted():
        await connection.refuse()
        await asyncio.Event().wait()  # until the closed socket ends us
