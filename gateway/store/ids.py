"""Execution ids: UUIDv7 (RFC 9562), time-ordered so they index and page well."""

from __future__ import annotations

import os
import time
import uuid

_POOL = 4096  # random bytes read at a time: one system call per ~400 ids, not per id
_random = b""


def _random_bits() -> int:
    global _random
    if len(_random) < 10:
        _random = os.urandom(_POOL)
    chunk, _random = _random[:10], _random[10:]
    return int.from_bytes(chunk, "big")


def new_id() -> uuid.UUID:
    """A fresh UUIDv7: 48 bits of Unix milliseconds, then 74 random bits."""
    millis = time.time_ns() // 1_000_000
    rand = _random_bits()
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (rand >> 68) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)
