"""Rate arithmetic for trigger limits: the generic cell rate algorithm (GCRA), pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_RATE = 1_000_000
MAX_PER = 86_400


@dataclass(frozen=True, slots=True)
class Rate:
    """`burst` calls at once, then one every `interval` seconds."""

    interval: float
    burst: int

    @classmethod
    def from_option(cls, option: Mapping[str, Any] | None) -> Rate | None:
        """`{rate, per, burst}` (validated) → a Rate: `{rate: 10, per: 60}` → one call
        every 6 s after a burst of 10 (burst defaults to rate, per to 1 s)."""
        if not option:
            return None
        rate = int(option["rate"])
        return cls(float(option.get("per", 1)) / rate, int(option.get("burst", rate)))


# Ten failed attempts from one client on one trigger, then one attempt every 30 s.
AUTH_FAILURES = Rate(interval=30.0, burst=10)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0


def gcra(tat: float | None, now: float, rate: Rate, cost: int) -> tuple[Decision, float | None]:
    """(decision, new stored time) for a call at `now` given the stored time `tat`.

    `cost` 1 takes a slot; 0 only asks whether one is free and stores nothing.
    `gcra(None, 0, Rate(10, 2), 1)` → allowed, stored 10: a second call at 0 is allowed
    (stored 20), a third is refused with `retry_after` 10.
    """
    base = now if tat is None or tat < now else tat
    # Not `base + interval - burst * interval`: adding and taking away the same large float
    # can land just above `now` and refuse a fresh client's first call (~0.7% of the time).
    allow_at = base - (rate.burst - 1) * rate.interval
    if now < allow_at:
        return Decision(False, allow_at - now), None
    return Decision(True), (base + cost * rate.interval if cost else None)
