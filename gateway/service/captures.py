"""Capture ("listen for the next calls"): the use cases and the in-memory view the
webhook path reads (docs/testing.md, Capture).

While a capture is open, each call to its workflow's URL is recorded, secret headers
redacted, whether or not the workflow is enabled. The webhook path asks `watching` for
every call: a dict lookup on `open`, empty when nothing is captured, refreshed from the
database every `GATEWAY_REVISION_POLL` seconds (captures opened by another process, such
as `gateway capture`) and at once in the process that opens or closes one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, unquote_plus

from gateway.core.clock import utcnow
from gateway.core.errors import DefinitionInvalid, GatewayError, NotFound, Problem
from gateway.core.settings import Settings
from gateway.store import captures as store
from gateway.store.captures import CallRow as CallRow
from gateway.store.captures import CaptureRow as CaptureRow
from gateway.store.captures import NewCall

log = logging.getLogger("gateway.captures")

DEFAULT_CALLS, MAX_CALLS = 10, 100
DEFAULT_SECONDS, MAX_SECONDS = 300, 3600
MAX_CALL_BYTES = 256 * 1024  # a longer body is stored cut, marked `truncated`
MAX_CAPTURE_BYTES = 4 * 1024 * 1024
KEPT_FOR = timedelta(days=1)  # after a capture ends, then pruned with its calls
REDACTED = "[redacted]"
_SECRET_NAMES = ("authorization", "cookie", "signature", "token", "secret", "hmac", "api-key")
_SECRET_EXACT = frozenset({"apikey", "x-api-key", "password"})
_QUERY_SECRETS = (*_SECRET_NAMES, *_SECRET_EXACT, "key", "sig")


def is_secret_header(name: str) -> bool:
    """Headers a capture never stores: credentials, cookies and signatures."""
    lower = name.lower()
    return lower in _SECRET_EXACT or any(part in lower for part in _SECRET_NAMES)


def redact(headers: dict[str, str]) -> dict[str, str]:
    return {k: (REDACTED if is_secret_header(k) else v) for k, v in headers.items()}


def redact_query(query: str) -> str:
    """The query string with the values of secret-looking parameters (`?token=…`) redacted;
    others are kept as they were sent."""
    if not query or not any(part in query.lower() for part in _QUERY_SECRETS):
        return query
    parts = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        secret = is_secret_header(unquote_plus(name)) or unquote_plus(name).lower() in (
            "key",
            "sig",
        )
        parts.append(f"{name}={quote(REDACTED)}" if equals and secret else pair)
    return "&".join(parts)


@dataclass(frozen=True)
class Recording:
    """A call as the webhook adapter read it, before it is redacted and cut to size."""

    method: str
    path: str
    headers: dict[str, str]
    query: str
    body: bytes
    answer_status: int | None


def bounds(calls: int | None, seconds: int | None) -> tuple[int, int]:
    """(calls, seconds) of a new capture; DefinitionInvalid naming the field when out of range."""
    calls = DEFAULT_CALLS if calls is None else calls
    seconds = DEFAULT_SECONDS if seconds is None else seconds
    problems = []
    if not 1 <= calls <= MAX_CALLS:
        problems.append(Problem("maxCalls", f"must be from 1 to {MAX_CALLS}"))
    if not 1 <= seconds <= MAX_SECONDS:
        problems.append(Problem("seconds", f"must be from 1 to {MAX_SECONDS}"))
    if problems:
        raise DefinitionInvalid(problems)
    return calls, seconds


class Captures:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.open: dict[int, CaptureRow] = {}
        """Open captures by workflow id, as last read."""
        self._task: asyncio.Task[None] | None = None
        self.on_recorded: Callable[[int], None] = _unheard
        """Told a capture's id after each call it records: set by the process (the events
        bus, service/events.py)."""

    def watching(self, workflow_id: int) -> CaptureRow | None:
        capture = self.open.get(workflow_id)
        if capture is None or capture.expires_at <= utcnow():
            return None
        return capture

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._poll(), name="capture-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.settings.revision_poll)
            try:
                await self.refresh()
            except GatewayError as exc:
                log.warning("cannot read open captures: %s", exc)

    async def refresh(self) -> None:
        self.open = {row.workflow_id: row for row in await store.open_captures()}

    async def open_capture(
        self, workflow_id: int, calls: int | None = None, seconds: int | None = None
    ) -> CaptureRow:
        max_calls, limit = bounds(calls, seconds)
        row = await store.open_capture(workflow_id, max_calls, MAX_CAPTURE_BYTES, limit)
        self.open = {**self.open, workflow_id: row}
        return row

    async def close(self, capture_id: int) -> CaptureRow:
        row = await store.close_capture(capture_id)
        if row is None:
            raise NotFound(f"no capture {capture_id}")
        await self.refresh()
        self.on_recorded(capture_id)  # its watches read it closed, and complete
        return row

    async def record(self, capture: CaptureRow, recording: Recording) -> CallRow | None:
        """Store a call; None (and the capture dropped from `open`) when it no longer fits."""
        body = recording.body[:MAX_CALL_BYTES]
        call = NewCall(
            received_at=utcnow(),
            method=recording.method,
            path=recording.path,
            headers=redact(recording.headers),
            query=recording.query,
            body=body,
            size=len(recording.body),
            truncated=len(body) < len(recording.body),
            answer_status=recording.answer_status,
        )
        stored = await store.record_call(capture.id, call)
        if stored is None:
            self.open = {k: v for k, v in self.open.items() if v.id != capture.id}
        else:
            self.on_recorded(capture.id)
        return stored


def _unheard(capture_id: int) -> None:
    pass


async def close_capture(capture_id: int) -> CaptureRow | None:
    """Close a capture from a process that does not take calls (`gateway capture`)."""
    return await store.close_capture(capture_id)


async def get_capture(capture_id: int) -> CaptureRow | None:
    return await store.get_capture(capture_id)


async def workflow_captures(workflow_id: int, limit: int) -> list[CaptureRow]:
    return await store.workflow_captures(workflow_id, limit)


async def calls_of(capture_ids: list[int], after: int = 0, limit: int = 100) -> list[CallRow]:
    return await store.calls_of(capture_ids, after, limit)


async def prune(now_minus: timedelta = KEPT_FOR) -> int:
    return await store.prune_captures(utcnow() - now_minus)


async def captured_call(call_id: int) -> tuple[CallRow, int]:
    """A captured call and its workflow id; NotFound otherwise."""
    found = await store.get_call(call_id)
    if found is None:
        raise NotFound(f"no captured call {call_id}")
    return found


def example_text(call: CallRow, source: str) -> str:
    """A captured call's part as parseExample reads pasted text."""
    if source == "body":
        return call.body.decode("utf-8", errors="replace")
    if source == "query":
        return call.query
    return "\n".join(
        f"{name}: {value}" for name, value in call.headers.items() if value != REDACTED
    )
