"""Reading a webhook call's body: the size limit is enforced as bytes arrive (a declared
Content-Length over the limit is refused before reading anything), so an oversized body is
never buffered whole (docs/webhooks.md, Answers). Turning the bytes into data is
`gateway/engine/requests.py`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from gateway.core.errors import Rejected

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class ClientGone(Exception):
    """The caller disconnected before its body was read."""


def too_large(limit: int) -> Rejected:
    return Rejected(413, "body_too_large", f"the request body is larger than {limit} bytes")


async def read_body(receive: Receive, limit: int, declared: int | None) -> bytes:
    if declared is not None and declared > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
