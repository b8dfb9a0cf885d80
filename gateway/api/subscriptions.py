"""GraphQL subscriptions over graphql-transport-ws at `/graphql` (docs/api.md,
Subscriptions): executions as they are created and change status, from the events bus
(service/events.py).

A subscription re-reads the execution for each change it gets, so it sends the execution
as it is at that moment; a change whose execution is gone (not kept) sends nothing. The
connection's token is checked again every `RECHECK` seconds, and at once when a token is
revoked through the API; once refused, the socket is closed with 4403.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry

from gateway.api.context import Info
from gateway.api.errors import UNAUTHENTICATED, ApiError
from gateway.api.loaders import Loaders
from gateway.api.queries import item_id
from gateway.api.types import Execution
from gateway.service import reads

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
        connection = info.context.connection
        if connection is None:
            raise ApiError(UNAUTHENTICATED, "subscriptions are served over WebSocket only")
        wanted = item_id(workflow_id, "workflowId") if workflow_id is not None else None
        loop = asyncio.get_running_loop()
        checked = loop.time()
        async with info.context.runtime.events.watch(wanted) as watch:
            while True:
                changes = await watch.next(timeout=RECHECK)
                if watch.revoked.is_set() or loop.time() - checked >= RECHECK:
                    watch.revoked.clear()
                    checked = loop.time()
                    if not await connection.accepted():
                        await connection.refuse()
                        await asyncio.Event().wait()  # until the closed socket ends us
                if not changes:
                    continue
                # One read for every change waiting: a busy server costs each subscription
                # one query at a time, whatever the rate of changes.
                rows = {
                    row.id: row
                    for row in await reads.executions_by_id(
                        [change.execution_id for change in changes]
                    )
                }
                for change in changes:
                    row = rows.get(change.execution_id)
                    if row is not None:
                        info.context.loaders = Loaders()  # what they load is read afresh
                        yield Execution.from_row(row)
