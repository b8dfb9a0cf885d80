"""Retry delays: pure, so they can be tested."""

from __future__ import annotations


def compute_backoff(attempt: int, base: float = 1.0, cap: float = 60.0) -> float:
    """Seconds to wait before retry `attempt` (1-based): doubling from `base`, at most `cap`.

    `compute_backoff(1) == 1.0`, `compute_backoff(3) == 4.0`, `compute_backoff(10) == 60.0`.
    """
    if attempt < 1:
        return base
    return float(min(cap, base * 2 ** (attempt - 1)))
