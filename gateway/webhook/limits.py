"""Rate limits per trigger and failed-authentication limits per client and trigger.

Both use GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp per
key): `burst` calls at once, then one every `interval` seconds. A refused call does not
count. Counts live in Redis when `GATEWAY_REDIS_URL` is set (one Lua script per check, on
Redis's clock, so every process shares them) and in this process's memory otherwise.

Redis trouble never refuses a call and never turns into a 500: the check is skipped (fails
open) and a warning is logged at most once a minute. Authentication is still checked.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.errors import Rejected
from gateway.security.rates import AUTH_FAILURES, Decision, Rate, gcra
from gateway.settings import Settings

__all__ = ["AUTH_FAILURES", "Decision", "Rate", "gcra"]

log = logging.getLogger("gateway.limits")


class Counter(Protocol):
    async def hit(self, key: str, rate: Rate, cost: int) -> Decision: ...

    async def close(self) -> None: ...


class MemoryCounter:
    """Counts in this process (one server process, or tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sweep_at: int = 10_000):
        self.clock = clock
        self._tats: MutableMapping[str, float] = {}
        self._sweep_at = sweep_at
        self._min_sweep = sweep_at

    async def hit(self, key: str, rate: Rate, cost: int) -> Decision:
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


# GCRA on Redis's clock, in microseconds. KEYS[1]; ARGV: interval µs, burst, cost.
# Returns {allowed 0/1, retry after µs}.
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
if cost > 0 then
  local new_tat = tat + cost * interval
  redis.call('SET', KEYS[1], string.format('%d', new_tat),
             'PX', math.floor((new_tat - now) / 1000) + 1)
end
return {1, 0}
"""


class RedisCounter:
    """Counts in Redis, shared by every process; fails open when Redis is unavailable."""

    def __init__(self, url: str, prefix: str, clock: Callable[[], float] = time.monotonic):
        self.redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix
        self.clock = clock
        self._script = self.redis.register_script(_GCRA_LUA)
        self._warned_at: float | None = None

    async def hit(self, key: str, rate: Rate, cost: int) -> Decision:
        interval = max(1, round(rate.interval * 1_000_000))
        try:
            allowed, retry_us = await self._script(
                keys=[f"{self.prefix}:{key}"], args=[interval, rate.burst, cost]
            )
        except (RedisError, OSError) as exc:
            self._warn(exc)
            return Decision(True)
        return Decision(bool(allowed), int(retry_us) / 1_000_000)

    def _warn(self, exc: Exception) -> None:
        now = self.clock()
        if self._warned_at is None or now - self._warned_at >= 60:
            self._warned_at = now
            log.warning("rate limits not checked, Redis unavailable: %s", exc)

    async def close(self) -> None:
        try:
            await self.redis.aclose()
        except (RedisError, OSError) as exc:  # shutting down: nothing left to count
            log.debug("closing the rate-limit Redis client: %s", exc)


def too_many(message: str, retry_after: float) -> Rejected:
    seconds = max(1, math.ceil(retry_after))
    return Rejected(429, "too_many_requests", message, headers={"retry-after": str(seconds)})


def client_address(scope: Mapping[str, Any]) -> str:
    """Who is calling, for failed-authentication counts: the peer address (behind a proxy,
    uvicorn's proxy headers support puts the real client there), IPv6 grouped by /64."""
    client = scope.get("client")
    return _group(str(client[0]) if client else "unknown")


@functools.lru_cache(maxsize=4096)
def _group(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


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
        if client is not None:
            blocked = await self.counter.hit(f"auth:{workflow_id}:{client}", AUTH_FAILURES, 0)
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
        await self.counter.hit(f"auth:{workflow_id}:{client}", AUTH_FAILURES, 1)

    async def close(self) -> None:
        await self.counter.close()
