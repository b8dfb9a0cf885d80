"""De-duplication keys: the first execution accepted for a key, and its answer.

The unique constraint on (workflow, key) is what makes de-duplication race-free: of two
concurrent calls with the same key, one insert wins and the other gets a Conflict. An
expired key is deleted in the same transaction that inserts its successor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from gateway.core.clock import utcnow
from gateway.store.errors import translated
from gateway.store.models import DedupKey


@dataclass(frozen=True)
class DedupClaim:
    workflow_id: int
    key: str
    execution_id: uuid.UUID
    expires_at: datetime
    response: dict[str, Any] | None = None


@dataclass(frozen=True)
class FirstCall:
    execution_id: uuid.UUID
    response: dict[str, Any] | None


async def insert_claims(claims: list[DedupClaim], conn: BaseDBAsyncClient) -> None:
    """Inside the caller's transaction; raises IntegrityError when a live key exists."""
    now = utcnow()
    for claim in claims:
        await (
            DedupKey.filter(workflow_id=claim.workflow_id, key=claim.key, expires_at__lte=now)
            .using_db(conn)
            .delete()
        )
    await DedupKey.bulk_create(
        [
            DedupKey(
                workflow_id=c.workflow_id,
                key=c.key,
                execution_id=c.execution_id,
                expires_at=c.expires_at,
                response=c.response,
            )
            for c in claims
        ],
        using_db=conn,
    )


async def first_call(workflow_id: int, key: str) -> FirstCall | None:
    async with translated("read de-duplication key"):
        row = await DedupKey.get_or_none(workflow_id=workflow_id, key=key)
    if row is None:
        return None
    return FirstCall(uuid.UUID(str(row.execution_id)), row.response)


async def settle_key(
    workflow_id: int,
    key: str,
    execution_id: uuid.UUID,
    response: dict[str, Any],
    conn: BaseDBAsyncClient,
) -> None:
    """Record the answer a sync call gave, for the duplicates that wait for it (inside the
    caller's transaction)."""
    await (
        DedupKey.filter(workflow_id=workflow_id, key=key, execution_id=execution_id)
        .using_db(conn)
        .update(response=response)
    )


async def prune_expired(batch: int = 1000) -> int:
    async with translated("prune de-duplication keys"):
        ids = (
            await DedupKey.filter(expires_at__lte=utcnow())
            .limit(batch)
            .values_list("id", flat=True)
        )
        if ids:
            await DedupKey.filter(id__in=list(ids)).delete()
    return len(ids)
