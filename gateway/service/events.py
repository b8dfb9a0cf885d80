"""Execution changes as events: what GraphQL subscriptions listen to (docs/api.md,
Subscriptions).

A change is an execution's id, its workflow's id and its new status, published when the
execution is created and whenever its status changes (its jobs are written with its end,
so the finishing change covers them). Watches get the execution as read after the change,
never the change itself.

- Without Redis (one embedded process) a change goes straight to the process's reader;
  with no watch open, publishing is one attribute test.
- With Redis every process (servers and workers) publishes its changes on one channel,
  a batch of them in one PUBLISH, from a background task: the caller only appends to a
  list. A server subscribes to the channel when its first watch opens (and stays
  subscribed, resubscribing after a lost connection), so a change made by a worker
  reaches a console connected to any server. A change published while Redis is
  unreachable is lost (logged); executions themselves are not affected. A token
  revocation goes the same way, so every server's subscriptions check their tokens.

A process reads the executions of its changes once for all its watches: one reader task
takes every change some watch wants, reads those executions in one query and offers the
rows to the watches, whatever their number: each watch gets the rows of a read it wants
together, and its listener takes all that waits at once (a batched subscription sends
them as one message). Reads start at least `READ_INTERVAL` apart:
what arrives meanwhile waits for the next one, so under load an execution's changes of
that time are one entry (the execution as read), and an idle server reads at once. A
change whose execution is gone (not kept) offers nothing. The reader holds at most
`UNREAD_LIMIT` changes not yet read (past that the oldest is dropped); a read that fails
is logged and its changes are skipped.

Each watch is bounded: it holds at most `WATCH_BACKLOG` executions not yet taken, one entry
per execution (a newer read of the same execution replaces the older one); past that the
oldest waiting entry is dropped, so a slow listener skips changes instead of growing the
server's memory.

Captured calls (service/captures.py) go the same way, as a capture's id alone: a watch of
a capture is woken and reads the capture's new calls itself.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from typing import Generic, Protocol, TypeVar

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from gateway.core.backoff import compute_backoff
from gateway.core.errors import GatewayError
from gateway.core.settings import Settings
from gateway.core.stopping import Stop, stop_task
from gateway.service import reads

log = logging.getLogger("gateway.events")
WATCH_BACKLOG = 256
UNREAD_LIMIT = 4096  # changes waiting for the reader, all watches together
READ_INTERVAL = 0.25  # seconds from one read's start to the next one's, at least
REVOKED = b'"revoked"'  # in a batch, beside the changes: tokens were revoked
CALL = "call"  # in a batch, ["call", capture id]: a capture recorded a call
_CONNECTION_ERRORS = (RedisError, OSError, TimeoutError)


class Keyed(Protocol):
    """What a watch needs of an entry: which execution, of which workflow."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def workflow_id(self) -> int: ...


Entry = TypeVar("Entry", bound=Keyed)


class Watch(Generic[Entry]):
    """One listener's executions: of one workflow, or of all (`workflow_id` None)."""

    def __init__(self, workflow_id: int | None, backlog: int = WATCH_BACKLOG) -> None:
        self.workflow_id = workflow_id
        self.backlog = backlog
        self.dropped = 0
        self._waiting: OrderedDict[uuid.UUID, Entry] = OrderedDict()
        self._read: list[Entry] | None = None
        """A read's entries as offered, while nothing else waits (`offer_read`)."""
        self._ready = asyncio.Event()
        self.revoked = asyncio.Event()
        """Set when admin tokens were revoked: the listener checks its own again."""

    def wants(self, workflow_id: int) -> bool:
        return self.workflow_id is None or workflow_id == self.workflow_id

    def offer(self, entry: Entry) -> None:
        self.offer_all((entry,))

    def offer_read(self, entries: list[Entry]) -> None:
        """`offer_all` for the entries of one read that this watch wants, each execution
        once: while nothing else waits they are kept as they are, the same list for every
        watch of the read (listeners read it and leave it as it is)."""
        if self._read is None and not self._waiting and len(entries) <= self.backlog:
            if entries:
                self._read = entries
                self._ready.set()
            return
        self.offer_all(entries)

    def offer_all(self, entries: Iterable[Entry]) -> None:
        """Entries of one read, in order: the listener wakes once, and takes them together
        (with whatever else is waiting)."""
        if self._read is not None:  # waiting as offered: from here on, one entry each
            self._waiting.update((entry.id, entry) for entry in self._read)
            self._read = None
        for entry in entries:
            if not self.wants(entry.workflow_id):
                continue
            self._waiting.pop(entry.id, None)
            self._waiting[entry.id] = entry
            if len(self._waiting) > self.backlog:
                self._waiting.popitem(last=False)
                self.dropped += 1
        if self._waiting:
            self._ready.set()

    def revoke(self) -> None:
        self.revoked.set()
        self._ready.set()

    async def next(self, timeout: float | None = None) -> list[Entry]:
        """Every waiting entry, oldest first, once there is one; none after `timeout`
        seconds or a revocation."""
        if not self._waiting and self._read is None and not self.revoked.is_set():
            self._ready.clear()
            with suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._ready.wait()
        if self._read is not None:
            entries, self._read = self._read, None
            return entries
        entries = list(self._waiting.values())
        self._waiting.clear()
        return entries


class Events:
    """The bus of one process: `publish` from anywhere, `watch` from a listener."""

    def __init__(self, settings: Settings) -> None:
        self.channel = f"{settings.redis_prefix}:events"
        self.redis_url = settings.redis_url
        self._watches: dict[int | None, set[Watch[reads.ExecutionRecord]]] = {}
        """Open watches by the workflow they follow (None: all)."""
        self._unread: dict[uuid.UUID, int] = {}
        """Changed executions not yet read, with their workflows, oldest change first."""
        self._arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._halt = Stop()
        self.reads = 0
        """Reads of executions made for the watches (one per batch of changes)."""
        self.skipped = 0
        """Changes the reader dropped unread (past `UNREAD_LIMIT`, or a failed read)."""
        self._capture_watches: dict[int, set[asyncio.Event]] = {}
        self._redis: Redis | None = None
        self._outbox: list[bytes] = []
        self._sender: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    def __len__(self) -> int:
        """Open watches in this process (of executions and of captures)."""
        executions = sum(len(each) for each in self._watches.values())
        return executions + sum(len(each) for each in self._capture_watches.values())

    @property
    def active(self) -> bool:
        """Whether a change published now goes anywhere (always, with Redis)."""
        return self._redis is not None or bool(self._watches)

    async def start(self) -> None:
        if self.redis_url:
            self._redis = Redis.from_url(self.redis_url, socket_connect_timeout=2)

    async def stop(self) -> None:
        if self._reader is not None:  # after the read at hand (core/stopping.py)
            self._arrived.set()
            await stop_task(self._reader, self._halt)
        for task in (self._listener, self._sender):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        self._listener = self._sender = self._reader = None
        if self._outbox and self._redis is not None:
            await self._send()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    def publish(self, execution_id: uuid.UUID, workflow_id: int, status: str) -> None:
        """Never blocks and never fails: a change that cannot be sent is logged."""
        if self._redis is None:
            if self._watches:
                self._deliver(execution_id, workflow_id)
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
        for watches in self._watches.values():
            for watch in watches:
                watch.revoke()

    def _post(self, item: bytes) -> None:
        self._outbox.append(item)
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_waiting())

    @asynccontextmanager
    async def watch(self, workflow_id: int | None) -> AsyncIterator[Watch[reads.ExecutionRecord]]:
        """A watch of executions as read after each of their changes, open for the block;
        with Redis, subscribed before the block starts."""
        watch: Watch[reads.ExecutionRecord] = Watch(workflow_id)
        if self._redis is not None:
            await self._listen()
        self._watches.setdefault(workflow_id, set()).add(watch)
        try:
            yield watch
        finally:
            watches = self._watches[workflow_id]
            watches.discard(watch)
            if not watches:
                del self._watches[workflow_id]

    def _deliver(self, execution_id: uuid.UUID, workflow_id: int) -> None:
        """Queue a change some watch wants for the reader (a newer change of the same
        execution replaces a waiting one)."""
        if workflow_id not in self._watches and None not in self._watches:
            return
        unread = self._unread
        unread.pop(execution_id, None)
        unread[execution_id] = workflow_id
        if len(unread) > UNREAD_LIMIT:
            del unread[next(iter(unread))]
            self.skipped += 1
        self._arrived.set()
        if (self._reader is None or self._reader.done()) and not self._halt.is_set():
            self._reader = asyncio.get_running_loop().create_task(
                self._read_changes(), name="events-reader"
            )

    async def _read_changes(self) -> None:
        """Forever: wait for changes, read their executions once, offer the rows to every
        watch; changes that arrive during a read or within `READ_INTERVAL` of its start
        make the next batch."""
        loop = asyncio.get_running_loop()
        last = -READ_INTERVAL
        while True:
            await self._arrived.wait()
            pause = last + READ_INTERVAL - loop.time()
            if self._halt.is_set() or (pause > 0 and await self._halt.wait(pause)):
                return
            last = loop.time()
            self._arrived.clear()
            changes, self._unread = self._unread, {}
            try:
                self.reads += 1
                rows = {row.id: row for row in await reads.executions_by_id(changes)}
            except GatewayError as exc:
                self.skipped += len(changes)
                log.warning("%d execution changes not read: %s", len(changes), exc)
                continue
            # in the changes' order; one gone (not kept) sends nothing
            self._offer([rows[each] for each in changes if each in rows])

    def _offer(self, rows: list[reads.ExecutionRecord]) -> None:
        """Each watch gets the rows of one read that it wants, together."""
        by_workflow: dict[int, list[reads.ExecutionRecord]] = {}
        for row in rows:
            by_workflow.setdefault(row.workflow_id, []).append(row)
        for workflow_id, mine in by_workflow.items():
            for watch in self._watches.get(workflow_id, ()):
                watch.offer_read(mine)
        if rows:
            for watch in self._watches.get(None, ()):
                watch.offer_read(rows)

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
                    execution_id, workflow_id, _status = item
                    self._deliver(uuid.UUID(execution_id), int(workflow_id))
            except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
                log.warning("execution changes: unreadable message on %s: %s", self.channel, exc)
