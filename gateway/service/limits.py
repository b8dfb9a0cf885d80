"""Rate limits per trigger and failed-authentication limits per client and trigger.

Both use GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp per
key): `burst` calls at once, then one every `interval` seconds. A refused call does not
count. Counts live in Redis when `GATEWAY_REDIS_URL` is set (one Lua script per check, on
Redis's clock, so every process shares them) and in this process's memory otherwise.

Redis trouble never refuses a call and never turns into a 500: the check is skipped (fails
open) and a warning is logged at most once a minute. Authentication is still checked.

The failed-authentication check comes before every guarded call, and a round trip to Redis
for each would almost always hear "no failures". So each counted failure is also
published, and every process keeps
the keys it heard of (until their bucket is full again): it asks Redis only about those.
A process that is not listening (starting, or its subscription lost) asks about every
key; on (re)subscribing it first loads the keys already counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import Callable, MutableMapping
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.core.backoff import compute_backoff
from gateway.core.errors import Rejected
from gateway.core.settings import Settings
from gateway.security.rates import AUTH_FAILURES, Decision, Rate, gcra

__all__ = ["AUTH_FAILURES", "Decision", "Rate", "gcra"]

log = logging.getLogger("gateway.limits")


class Counter(Protocol):
    async def start(self) -> None: ...

    async def hit(self, key: str, rate: Rate, cost: int, announce: bool = False) -> Decision:
        """Check `key` and take `cost` slots if allowed; `announce` a taken slot to the
        other processes (see `may_refuse`)."""

    def may_refuse(self, key: str) -> bool:
        """False only when a check of `key` (of the announced kind) is sure to allow."""

    async def close(self) -> None: ...


class MemoryCounter:
    """Counts in this process (one server process, or tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sweep_at: int = 10_000):
        self.clock = clock
        self._tats: MutableMapping[str, float] = {}
        self._sweep_at = sweep_at
        self._min_sweep = sweep_at

    async def start(self) -> None:
        pass

    def may_refuse(self, key: str) -> bool:
        # A key never counted (or forgotten by a sweep, its bucket full again) is allowed:
        # a guarded call of a client that has not failed skips the check.
        return key in self._tats

    async def hit(self, key: str, rate: Rate, cost: int, announce: bool = False) -> Decision:
        now = self.clock()
        decision, tat = gcra(self._tats.get(key), now, rate, cost)
        if tat is not None:
            self._tats[key] = tat
            if len(self._tats) > self._sweep_at:
                self._sweep(now)
        return decision

    def _sweep(self, now: float) -> None:
        """Forget keys whose bucket is full again (their stored time has passed)."""
        for key in [k for k, tat in self._tats.items() if tat <= now]:
            del self._tats[key]
        self._sweep_at = max(self._min_sweep, 2 * len(self._tats))

    async def close(self) -> None:
        self._tats.clear()


# GCRA on Redis's clock, in microseconds. KEYS[1]; ARGV: interval µs, burst, cost, and a
# channel to announce a taken slot on ("" for none) as "<key> <ms until the bucket is full>".
# Returns {allowed 0/1, retry after µs, ms until the bucket is full (0 if nothing taken)}.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored and tonumber(stored) > now then tat = tonumber(stored) end
local allow_at = tat + interval - tonumber(ARGV[2]) * interval
if now < allow_at then return {0, allow_at - now} end
local cost = tonumber(ARGV[3])
local ttl = 0
if cost > 0 then
  local new_tat = tat + cost * interval
  ttl = math.floor((new_tat - now) / 1000) + 1
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', ttl)
  if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], KEYS[1] .. ' ' .. ttl) end
end
return {1, 0, ttl}
"""


_MARKER = "marker "


class RedisCounter:
    """Counts in Redis, shared by every process; fails open when Redis is unavailable."""

    def __init__(self, url: str, prefix: str, clock: Callable[[], float] = time.monotonic):
        self.url = url
        self.redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix
        self.channel = f"{prefix}:announced"
        self.clock = clock
        self._script = self.redis.register_script(_GCRA_LUA)
        self._warned_at: float | None = None
        self._announced: dict[str, float] = {}  # Redis key → until when it may refuse
        self._listening = False
        self._listened = False  # the current subscription got as far as listening
        self._ready = asyncio.Event()
        self._markers: dict[str, asyncio.Future[None]] = {}
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen_forever(), name="limits-listener")

    def may_refuse(self, key: str) -> bool:
        if not self._listening:
            return True
        until = self._announced.get(f"{self.prefix}:{key}")
        return until is not None and until > self.clock()

    async def hit(self, key: str, rate: Rate, cost: int, announce: bool = False) -> Decision:
        interval = max(1, round(rate.interval * 1_000_000))
        channel = self.channel if announce else ""
        full_key = f"{self.prefix}:{key}"
        try:
            allowed, retry_us, *taken = await self._script(
                keys=[full_key], args=[interval, rate.burst, cost, channel]
            )
        except (RedisError, OSError) as exc:
            self._warn(exc)
            return Decision(True)
        if announce and taken and int(taken[0]) > 0:
            self._heard(full_key, int(taken[0]))  # at once here; other processes when told
        return Decision(bool(allowed), int(retry_us) / 1_000_000)

    async def synced(self) -> None:
        """Wait until this process listens and has heard every announcement made so far
        (a marker sent now comes back after them). Tests use it instead of sleeping."""
        await self._ready.wait()
        token = uuid.uuid4().hex
        heard = asyncio.get_running_loop().create_future()
        self._markers[token] = heard
        try:
            await self.redis.publish(self.channel, f"{_MARKER}{token}")
            await heard
        finally:
            self._markers.pop(token, None)

    def _heard(self, key: str, ttl_ms: int) -> None:
        now = self.clock()
        self._announced[key] = now + ttl_ms / 1000
        if len(self._announced) > 10_000:
            self._announced = {k: t for k, t in self._announced.items() if t > now}

    def _note(self, message: dict[str, Any]) -> None:
        if message["type"] != "message":
            return
        text = message["data"].decode()
        if text.startswith(_MARKER):
            heard = self._markers.get(text.removeprefix(_MARKER))
            if heard is not None and not heard.done():
                heard.set_result(None)
            return
        key, _, ttl = text.rpartition(" ")
        if key and ttl.isdigit():  # anything else on the channel is not ours: ignored
            self._heard(key, int(ttl))

    async def _listen_forever(self) -> None:
        """Listen, and listen again after a failure (backing off while it keeps failing
        before it listens); meanwhile every check asks Redis."""
        attempt = 0
        while True:
            try:
                await self._listen()
            except (RedisError, OSError, TimeoutError) as exc:
                self._warn(exc)
            except Exception:
                log.exception("the limits subscription failed; checks ask Redis meanwhile")
            attempt = 1 if self._listened else attempt + 1
            self._listened = False
            await asyncio.sleep(compute_backoff(attempt, base=0.5, cap=10))

    async def _listen(self, ping_every: float = 5.0) -> None:
        """Subscribe, load the keys counted so far, then note every announcement. Pings
        the subscription every `ping_every` seconds: one with no answer in time ends it."""
        client = Redis.from_url(self.url, socket_connect_timeout=0.5)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            async for key in client.scan_iter(match=f"{self.prefix}:auth:*", count=1000):
                ttl = await client.pttl(key)
                if ttl > 0:
                    self._heard(key.decode(), ttl)
            while (message := await pubsub.get_message(timeout=0)) is not None:
                self._note(message)  # announced while the keys were loading
            self._listening = self._listened = True
            self._ready.set()
            pinged = self.clock()
            await pubsub.ping()
            answered = True
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message["type"] == "pong":
                    answered = True
                elif message is not None:
                    self._note(message)
                if self.clock() - pinged >= ping_every:
                    if not answered:
                        raise TimeoutError("the limits subscription stopped answering")
                    pinged, answered = self.clock(), False
                    await pubsub.ping()
        finally:
            self._listening = False
            self._ready.clear()
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
                await client.aclose()

    def _warn(self, exc: Exception) -> None:
        now = self.clock()
        if self._warned_at is None or now - self._warned_at >= 60:
            self._warned_at = now
            log.warning("rate limits not checked, Redis unavailable: %s", exc)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        try:
            await self.redis.aclose()
        except (RedisError, OSError) as exc:  # shutting down: nothing left to count
            log.debug("closing the rate-limit Redis client: %s", exc)


def too_many(message: str, retry_after: float) -> Rejected:
    seconds = max(1, math.ceil(retry_after))
    return Rejected(429, "too_many_requests", message, headers={"retry-after": str(seconds)})


class Limits:
    """The checks of the webhook endpoint, on one counter (memory or Redis)."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        if settings.redis_url:
            return cls(RedisCounter(settings.redis_url, f"{settings.redis_prefix}:limits"))
        return cls(MemoryCounter())

    async def admit(self, workflow_id: int, rate: Rate | None, client: str | None) -> None:
        """Raise 429 when `client` (None: not tracked) has failed too often on this
        trigger, or when the trigger is over its rate; count the call otherwise."""
        key = f"auth:{workflow_id}:{client}" if client is not None else None
        if key is not None and self.counter.may_refuse(key):
            blocked = await self.counter.hit(key, AUTH_FAILURES, 0)
            if not blocked.allowed:
                raise too_many(
                    "too many failed authentication attempts; retry later", blocked.retry_after
                )
        if rate is not None:
            decision = await self.counter.hit(f"rate:{workflow_id}", rate, 1)
            if not decision.allowed:
                raise too_many("this webhook's rate limit is exceeded", decision.retry_after)

    async def failed(self, workflow_id: int, client: str) -> None:
        """Count a failed authentication (basic auth or signature) of `client`."""
        await self.counter.hit(f"auth:{workflow_id}:{client}", AUTH_FAILURES, 1, announce=True)

    async def start(self) -> None:
        await self.counter.start()

    async def close(self) -> None:
        await self.counter.close()
