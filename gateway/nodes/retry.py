"""A node's retry policy (`config.retry` of `request`): how often, how long between, on what.

    retry: {attempts: 5, backoff: exponential, initialInterval: 200ms, maxInterval: 30s,
            jitter: true, on: [network, timeout, 429, 5xx]}

`attempts` counts every try, the first included (1 = no retry). `on` lists what is worth
another try: `network` (refused, reset, DNS, TLS), `timeout`, a status (`429`, `503`) or a
class of them (`5xx`, `4xx`). A `Retry-After` answer (seconds or an HTTP date) is waited
for instead of the backoff, capped at `maxInterval`. Checking and compiling live here; the
request node runs the loop and the delays come from `core.backoff.retry_delay`.
"""

from __future__ import annotations

import email.utils
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.core.backoff import retry_delay
from gateway.core.durations import HINT, parse_duration
from gateway.core.errors import Problem

MAX_ATTEMPTS = 10
MAX_INTERVAL_MS = 10 * 60 * 1000
DEFAULT_ON = ("network", "timeout", "429", "5xx")
BACKOFFS = ("exponential", "fixed")
FIELDS = frozenset({"attempts", "backoff", "initialInterval", "maxInterval", "jitter", "on"})
_STATUS = re.compile(r"^[45](\d\d|xx)$")


def _on_problems(value: Any, field: str) -> list[Problem]:
    if not isinstance(value, list) or not value:
        return [Problem(field, "must be a non-empty list", hint="network, timeout, 429, 5xx")]
    problems = []
    for index, item in enumerate(value):
        text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
        if text in ("network", "timeout") or (isinstance(text, str) and _STATUS.match(text)):
            continue
        problems.append(
            Problem(
                f"{field}[{index}]",
                f"unknown condition {item!r}",
                hint="network, timeout, a status from 400 to 599, 4xx or 5xx",
            )
        )
    return problems


def _interval_problems(config: dict[str, Any], name: str, field: str) -> list[Problem]:
    if name not in config:
        return []
    milliseconds = parse_duration(config[name])
    if milliseconds is None or milliseconds > MAX_INTERVAL_MS:
        return [Problem(f"{field}.{name}", "must be a duration up to 10m", hint=HINT)]
    return []


def retry_problems(value: Any, field: str) -> list[Problem]:
    """Every problem with a `retry` config (absent is fine: no retry)."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return [Problem(field, "must be an object", hint="{attempts: 3}")]
    problems = [
        Problem(f"{field}.{name}", "unknown field", hint=", ".join(sorted(FIELDS)))
        for name in value
        if name not in FIELDS
    ]
    attempts = value.get("attempts", 3)
    if isinstance(attempts, bool) or not isinstance(attempts, int):
        problems.append(Problem(f"{field}.attempts", "must be a whole number"))
    elif not 1 <= attempts <= MAX_ATTEMPTS:
        problems.append(Problem(f"{field}.attempts", f"must be from 1 to {MAX_ATTEMPTS}"))
    if value.get("backoff", "exponential") not in BACKOFFS:
        problems.append(Problem(f"{field}.backoff", "must be exponential or fixed"))
    if "jitter" in value and not isinstance(value["jitter"], bool):
        problems.append(Problem(f"{field}.jitter", "must be true or false"))
    problems += _interval_problems(value, "initialInterval", field)
    problems += _interval_problems(value, "maxInterval", field)
    if "on" in value:
        problems += _on_problems(value["on"], f"{field}.on")
    return problems


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 1
    exponential: bool = True
    initial: float = 0.2
    maximum: float = 30.0
    jitter: bool = True
    on: frozenset[str] = frozenset(DEFAULT_ON)

    @classmethod
    def from_config(cls, value: Any) -> RetryPolicy:
        """The compiled policy of a checked `retry` config; none (one attempt) when absent."""
        if not isinstance(value, dict):
            return cls()
        initial = parse_duration(value.get("initialInterval", 200)) or 0.0
        maximum = parse_duration(value.get("maxInterval", 30_000))
        return cls(
            attempts=int(value.get("attempts", 3)),
            exponential=value.get("backoff", "exponential") == "exponential",
            initial=initial / 1000,
            maximum=(maximum if maximum is not None else 30_000) / 1000,
            jitter=bool(value.get("jitter", True)),
            on=frozenset(str(item) for item in value.get("on", DEFAULT_ON)),
        )

    def retryable(self, failure: str | int) -> bool:
        """Whether `failure` (`network`, `timeout` or an answer's status) is worth a retry."""
        if isinstance(failure, str):
            return failure in self.on
        return str(failure) in self.on or f"{failure // 100}xx" in self.on

    def delay(
        self,
        retry: int,
        retry_after: str | None = None,
        draw: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> float:
        """Seconds before retry `retry` (1-based): the answer's `Retry-After` when it has a
        usable one (capped at the maximum interval), else the backoff."""
        asked = parse_retry_after(retry_after, now()) if retry_after else None
        if asked is not None:
            return min(asked, self.maximum)
        jitter = draw() if self.jitter else None
        return retry_delay(
            retry, self.initial, self.maximum, exponential=self.exponential, jitter=jitter
        )


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds from a `Retry-After` header: delta-seconds or an HTTP date; None if neither.

    `parse_retry_after("3", now) == 3.0`; a date in the past is 0.
    """
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
