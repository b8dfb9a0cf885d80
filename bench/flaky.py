"""Scenario 12's downstream, served like `bench/bare.py` (uvicorn, one process): answers
`{}` to every call, except that on `/flaky` the first try of one call in five (chosen by
its `Idempotency-Key`, which every try of a `request` node repeats) gets a 503; its retry
succeeds. `GET /stats` tells how many tries it saw and how many it failed.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]

FAIL_ONE_IN = 5  # a fifth of first tries fail
_failed: set[bytes] = set()
_tries = {"ok": 0, "flaky": 0, "failed": 0}


def fails(path: str, key: bytes) -> bool:
    """Whether this try gets a 503: a first try on /flaky whose key falls in the fifth."""
    if path != "/flaky" or key in _failed or zlib.crc32(key) % FAIL_ONE_IN:
        return False
    _failed.add(key)
    return True


async def app(
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    path = scope["path"]
    if path == "/stats":
        body = json.dumps(_tries).encode()
        status = 200
    else:
        key = dict(scope["headers"]).get(b"idempotency-key", b"")
        status = 503 if fails(path, key) else 200
        _tries["flaky" if path == "/flaky" else "ok"] += 1
        _tries["failed"] += status == 503
        body = b"{}"
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
