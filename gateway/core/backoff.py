"""Retry delays: pure, so they can be tested."""

from __future__ import annotations


def compute_backoff(attempt: int, base: float = 1.0, cap: float = 60.0) -> float:
    """Seconds to wait before retry `attempt` (1-based): doubling from `base`, at most `cap`.

    `compute_backoff(1) == 1.0`, `compute_backoff(3) == 4.0`, `compute_backoff(10) == 60.0`.
    """
    if attempt < 1:
        return base
    return float(min(cap, base * 2 ** (attempt - 1)))


def retry_delay(
    retry: int,
    initial: float,
    maximum: float,
    *,
    exponential: bool = True,
    jitter: float | None = None,
) -> float:
    """Seconds to wait before retry `retry` (1-based) of a node: `initial` then doubling
    (`exponential`) or always `initial`, at most `maximum`. `jitter` is a number in [0, 1)
    (a random draw, passed in so this stays pure): the delay is then drawn uniformly from
    its upper half ("equal jitter"), so retries of many executions spread out but never
    come sooner than half the schedule.

    `retry_delay(3, 0.2, 30) == 0.8`; `retry_delay(3, 0.2, 30, exponential=False) == 0.2`;
    `retry_delay(3, 0.2, 30, jitter=0.0) == 0.4`.
    """
    delay = compute_backoff(retry, initial, maximum) if exponential else min(initial, maximum)
    if jitter is None:
        return delay
    return delay / 2 + delay / 2 * jitter
