"""Captures and the calls they recorded (docs/testing.md, Capture).

A call is counted against its capture by one conditional update (open, not expired, under
its call and byte budgets) before it is inserted, so concurrent calls in several processes
never take a capture past its bounds; a call that does not fit is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from gateway.core.clock import utcnow
from gateway.store.errors import translated
from gateway.store.models import Capture, CapturedCall


@dataclass(frozen=True)
class CaptureRow:
    id: int
    workflow_id: int
    opened_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    max_calls: int
    max_bytes: int
    calls_count: int
    bytes_count: int

    def is_open(self, now: datetime) -> bool:
        return (
            self.closed_at is None and self.expires_at > now and self.calls_count < self.max_calls
        )


@dataclass(frozen=True)
class CallRow:
    id: int
    capture_id: int
    received_at: datetime
    method: str
    path: str
    headers: dict[str, str]
    query: str
    body: bytes
    size: int
    truncated: bool
    answer_status: int | None


@dataclass(frozen=True)
class NewCall:
    received_at: datetime
    method: str
    path: str
    headers: dict[str, str]
    query: str
    body: bytes
    size: int
    truncated: bool
    answer_status: int | None


def _capture(row: Capture) -> CaptureRow:
    return CaptureRow(
        row.id,
        row.workflow_id,
        row.opened_at,
        row.expires_at,
        row.closed_at,
        row.max_calls,
        row.max_bytes,
        row.calls_count,
        row.bytes_count,
    )


def _call(row: CapturedCall) -> CallRow:
    return CallRow(
        row.id,
        row.capture_id,
        row.received_at,
        row.method,
        row.path,
        dict(row.headers or {}),
        row.query,
        bytes(row.body),
        row.size,
        row.truncated,
        row.answer_status,
    )


async def open_capture(
    workflow_id: int, max_calls: int, max_bytes: int, seconds: float
) -> CaptureRow:
    """A new capture; an open one of the same workflow is closed in the same transaction."""
    now = utcnow()
    async with translated("open a capture"), in_transaction() as conn:
        await (
            Capture.filter(workflow_id=workflow_id, closed_at=None)
            .using_db(conn)
            .update(closed_at=now)
        )
        row = await Capture.create(
            workflow_id=workflow_id,
            opened_at=now,
            expires_at=now + timedelta(seconds=seconds),
            max_calls=max_calls,
            max_bytes=max_bytes,
            using_db=conn,
        )
    return _capture(row)


async def close_capture(capture_id: int) -> CaptureRow | None:
    async with translated("close a capture"):
        await Capture.filter(id=capture_id, closed_at=None).update(closed_at=utcnow())
        row = await Capture.get_or_none(id=capture_id)
    return _capture(row) if row is not None else None


async def get_capture(capture_id: int) -> CaptureRow | None:
    async with translated("read a capture"):
        row = await Capture.get_or_none(id=capture_id)
    return _capture(row) if row is not None else None


async def open_captures() -> list[CaptureRow]:
    """Captures still taking calls (not closed, not expired, under their call budget)."""
    now = utcnow()
    async with translated("read open captures"):
        rows = await Capture.filter(
            closed_at=None, expires_at__gt=now, calls_count__lt=F("max_calls")
        )
    return [_capture(row) for row in rows]


async def workflow_captures(workflow_id: int, limit: int) -> list[CaptureRow]:
    """A workflow's captures, newest first."""
    async with translated("list captures"):
        rows = await Capture.filter(workflow_id=workflow_id).order_by("-id").limit(limit)
    return [_capture(row) for row in rows]


async def record_call(capture_id: int, call: NewCall) -> CallRow | None:
    """Store `call` if it fits its capture's budgets; None when the capture is closed,
    expired or full."""
    cost = len(call.body)
    now = utcnow()
    async with translated("record a captured call"), in_transaction() as conn:
        counted = (
            await Capture.filter(
                id=capture_id,
                closed_at=None,
                expires_at__gt=now,
                calls_count__lt=F("max_calls"),
                bytes_count__lte=F("max_bytes") - cost,
            )
            .using_db(conn)
            .update(calls_count=F("calls_count") + 1, bytes_count=F("bytes_count") + cost)
        )
        if not counted:
            return None
        row = await CapturedCall.create(capture_id=capture_id, **vars(call), using_db=conn)
    return _call(row)


async def calls_of(capture_ids: list[int], after: int = 0, limit: int = 100) -> list[CallRow]:
    """Calls of these captures with an id above `after`, oldest first."""
    async with translated("list captured calls"):
        rows = (
            await CapturedCall.filter(capture_id__in=capture_ids, id__gt=after)
            .order_by("id")
            .limit(limit)
        )
    return [_call(row) for row in rows]


async def get_call(call_id: int) -> tuple[CallRow, int] | None:
    """A captured call and the id of its workflow."""
    async with translated("read a captured call"):
        row = await CapturedCall.get_or_none(id=call_id).prefetch_related("capture")
    if row is None:
        return None
    return _call(row), row.capture.workflow_id


async def prune_captures(ended_before: datetime) -> int:
    """Delete captures (and their calls) that expired or closed before `ended_before`."""
    async with translated("prune captures"):
        ids: list[Any] = list(
            await Capture.filter(expires_at__lt=ended_before).values_list("id", flat=True)
        )
        ids += list(await Capture.filter(closed_at__lt=ended_before).values_list("id", flat=True))
        if not ids:
            return 0
        await CapturedCall.filter(capture_id__in=ids).delete()
        return int(await Capture.filter(id__in=ids).delete())
