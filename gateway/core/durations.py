"""Durations in documents: milliseconds as a number, or text with a unit.

`parse_duration(200) == 200`, `parse_duration("200ms") == 200`, `parse_duration("5s") == 5000`,
`parse_duration("5m") == 300_000`, `parse_duration("2h") == 7_200_000`; anything else
(negative, a bool, an unknown unit) is None.
"""

from __future__ import annotations

import re
from typing import Any

_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {None: 1, "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
HINT = "milliseconds as a number, or text such as 200ms, 5s, 5m, 2h"


def parse_duration(value: Any) -> float | None:
    """Milliseconds, or None when `value` is not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    if not isinstance(value, str):
        return None
    match = _TEXT.match(value)
    if match is None:
        return None
    return float(match.group(1)) * _UNITS[match.group(2)]
