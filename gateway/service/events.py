"""Execution changes as events: what GraphQL subscriptions listen to (docs/api.md,
Subscriptions).

A change is an execution's id, its workflow's id and its new status, published when the
execution is created and whenever its status changes (its jobs are written with its end,
so the finishing change covers them). Listeners read the execution itself when they need
more; they never see the change's content beyond which execution to read.

- Without Redis (one embedded process) a change goes straight to the process's watches;
  with no watch open, publishing is one attribute test.
- With Redis every process (servers and workers) publishes its changes on one channel,
  a batch of them in one PUBLISH, from a background task: the caller only appends to a
  list. A server subscribes to the channel when its first watch opens (and stays
  subscribed, resubscribing after a lost connection), so a change made by a worker
  reaches a console connected to any server. A change published while Redis is
  unreachable is lost (logged); executions themselves are not affected. A token
  revocation goes the same way, so every server's subscriptions check their tokens.

Each watch is bounded: it holds at most `WATCH_BACKLOG` executions not yet read, one entry
per execution (a newer change of the same execution replaces the older one: the reader
reads the execution as it is now); past that the oldest waiting entry is dropped, so a
slow reader skips changes instead of growing the server's memory.

Captured calls (service/captures.py) go the same way, as a capture's id alone: a watch of
a capture is woken and reads the capture's new calls itself.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from gateway.core.backoff import compute_backoff
from gateway.core.settings import Settings

log = logging.getLogger("gateway.events")
WATCH_BACKLOG = 256
REVOKED = b'"revoked"'  # in a batch, beside the changes: tokens were revoked
CALL = "call"  # in a batch, ["call", capture id]: a capture recorded a call
_CONNECTION_ERRORS = (RedisError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class Change:
    execution_id: uuid.UUID
    workflow_id: int
    status: str


class Watch:
    """One listener's changes: of one workflow, or of all (`workflow_id` None)."""

    def __init__(self, workflow_id: int | None, backlog: int = WATCH_BACKLOG) -> None:
        self.workflow_id = workflow_id
        self.backlog = backlog
        self.dropped = 0
        self._waiting: OrderedDict[uuid.UUID, Change] = OrderedDict()
        self._ready = asyncio.Event()
        self.revoked = asyncio.Event()
        """Set when admin tokens were revoked: the listener checks its own again."""

    def offer(self, change: Change) -> None:
        if self.workflow_id is not None and change.workflow_id != self.workflow_id:
            return
        self._waiting.pop(change.execution_id, None)
        self._waiting[change.execution_id] = change
        if len(self._waiting) > self.backlog:
            self._waiting.popitem(last=False)
            self.dropped += 1
        self._ready.set()

    async def next(self, timeout: float | None = None) -> list[Change]:
        """Every waiting change, oldest first, once there is one; none after `timeout`
        seconds or a revocation."""
        if not self._waiting:
            self._ready.clear()
            revoked = asyncio.ensure_future(self.revoked.wait())
            ready = asyncio.ensure_future(self._ready.wait())
            try:
                await asyncio.wait((ready, revoked), timeout=timeout, return_when="FIRST_COMPLETED")
            finally:
                ready.cancel()
                revoked.cancel()
        changes = list(self._waiting.values())
        self._waiting.clear()
        return changes


class Events:
    """The bus of one process: `publish` from anywhere, `watch` from a listener."""

    def __init__(self, settings: Settings) -> None:
        self.channel = f"{settings.redis_prefix}:events"
        self.redis_url = settings.redis_url
        self._watches: set[Watch] = set()
        self._capture_watches: dict[int, set[asyncio.Event]] = {}
        self._redis: Redis | None = None
        self._outbox: list[bytes] = []
        self._sender: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    def __len__(self) -> int:
        """Open watches in this process (of executions and of captures)."""
        return len(self._watches) + sum(len(w) for w in self._capture_watches.values())

    @property
    def active(self) -> bool:
        """Whether a change published now goes anywhere (always, with Redis)."""
        return self._redis is not None or bool(self._watches)

    async def start(self) -> None:
        if self.redis_url:
            self._redis = Redis.from_url(self.redis_url, socket_connect_timeout=2)

    async def stop(self) -> None:
        for task in (self._listener, self._sender):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        self._listener = self._sender = None
        if self._outbox and self._redis is not None:
            await self._send()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    def publish(self, execution_id: uuid.UUID, workflow_id: int, status: str) -> None:
        """Never blocks and never fails: a change that cannot be sent is logged."""
        if self._redis is None:
            if self._watches:
                self._deliver(Change(execution_id, workflow_id, status))
            return
        self._post(orjson.dumps([str(execution_id), workflow_id, status]))

    def captured(self, capture_id: int) -> None:
        """A capture recorded a call: its watches, here and (with Redis) in every server."""
        if self._redis is None:
            self._wake(capture_id)
            return
        self._post(orjson.dumps([CALL, capture_id]))

    def _wake(self, capture_id: int) -> None:
        for woken in self._capture_watches.get(capture_id, ()):
            woken.set()

    @asynccontextmanager
    async def watch_capture(self, capture_id: int) -> AsyncIterator[asyncio.Event]:
        """An event set each time the capture records a call (clear it before reading);
        with Redis, subscribed before the block starts."""
        woken = asyncio.Event()
        if self._redis is not None:
            await self._listen()
        self._capture_watches.setdefault(capture_id, set()).add(woken)
        try:
            yield woken
        finally:
            watches = self._capture_watches[capture_id]
            watches.discard(woken)
            if not watches:
                del self._capture_watches[capture_id]

    def revoked(self) -> None:
        """Admin tokens were revoked: every watch checks its token again, in this process
        at once and, with Redis, in every server."""
        self._revoke()
        if self._redis is not None:
            self._post(REVOKED)

    def _revoke(self) -> None:
        for watch in self._watches:
            watch.revoked.set()

    def _post(self, item: bytes) -> None:
        self._outbox.append(item)
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_waiting())

    @asynccontextmanager
    async def watch(self, workflow_id: int | None) -> AsyncIterator[Watch]:
        """A watch, open for the block; with Redis, subscribed before the block starts."""
        watch = Watch(workflow_id)
        if self._redis is not None:
            await self._listen()
        self._watches.add(watch)
        try:
            yield watch
        finally:
            self._watches.discard(watch)

    def _deliver(self, change: Change) -> None:
        for watch in self._watches:
            watch.offer(change)

    async def _send_waiting(self) -> None:
        try:
            while self._outbox:
                await self._send()
        finally:
            self._sender = None

    async def _send(self) -> None:
        batch, self._outbox = self._outbox, []
        assert self._redis is not None
        try:
            await self._redis.publish(self.channel, b"[" + b",".join(batch) + b"]")
        except _CONNECTION_ERRORS as exc:
            log.warning("%d execution changes not published: %s", len(batch), exc)

    async def _listen(self) -> None:
        """Start the channel's reader once, and wait until it is subscribed."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._read_forever(), name="events")
        waiting = asyncio.ensure_future(self._listening.wait())
        done, _ = await asyncio.wait((waiting, self._listener), return_when="FIRST_COMPLETED")
        waiting.cancel()
        if self._listener in done:  # it never ends but by an error: say it
            self._listener.result()

    async def _read_forever(self) -> None:
        assert self._redis is not None
        attempt = 0
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._listening.set()
                attempt = 0
                await self._read(pubsub)
            except _CONNECTION_ERRORS as exc:
                attempt += 1
                log.warning("execution changes: Redis subscription lost: %s", exc)
                self._listening.set()  # watches open meanwhile; they get what comes later
                await asyncio.sleep(compute_backoff(attempt))
            finally:
                with suppress(*_CONNECTION_ERRORS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is None:
                continue
            try:
                for item in orjson.loads(message["data"]):
                    if item == "revoked":
                        self._revoke()
                        continue
                    if item[0] == CALL:
                        self._wake(int(item[1]))
                        continue
                    execution_id, workflow_id, status = item
                    self._deliver(Change(uuid.UUID(execution_id), int(workflow_id), status))
            except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
                log.warning("execution changes: unreadable message on %s: %s", self.channel, exc)
