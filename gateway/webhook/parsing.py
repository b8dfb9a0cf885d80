"""Reading a webhook call's body: the size limit is enforced as bytes arrive (a declared
Content-Length over the limit is refused before reading anything), so an oversized body is
never buffered whole; a `gzip` or `deflate` body is decoded under the same limit, applied
to the decoded size (docs/webhooks.md, Answers). Turning the bytes into data is
`gateway/engine/requests.py`."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from gateway.core.errors import Rejected

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
# Content codings by name (RFC 9110 §8.4.1: x-gzip is gzip), with zlib's window bits.
GZIP = 16 + zlib.MAX_WBITS
CODINGS: dict[str, int | None] = {"gzip": GZIP, "x-gzip": GZIP, "deflate": None, "identity": 0}
SUPPORTED = "gzip, deflate"


class ClientGone(Exception):
    """The caller disconnected before its body was read."""


def too_large(limit: int, decoded: bool = False) -> Rejected:
    what = "decoded request body" if decoded else "request body"
    return Rejected(413, "body_too_large", f"the {what} is larger than {limit} bytes")


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


def content_codings(header: str | None) -> list[str]:
    """The codings of a `Content-Encoding` header in the order the sender applied them,
    without `identity`; a coding the gateway cannot decode is refused with 415 before the
    body is read."""
    if not header:
        return []
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    unknown = [c for c in codings if c not in CODINGS]
    if unknown:
        raise Rejected(
            415,
            "unsupported_media_type",
            f"cannot decode a body with Content-Encoding {unknown[0]!r}",
            details=[{"supported": f"{SUPPORTED} (or none)"}],
            headers={"accept-encoding": SUPPORTED},
        )
    return [c for c in codings if c != "identity"]


def decode_body(raw: bytes, codings: list[str], limit: int) -> bytes:
    """`raw` with its content codings undone, last applied first; more than `limit` decoded
    bytes is 413 (a small zip bomb never inflates past the limit), a body that does not
    decode is 400."""
    for coding in reversed(codings):
        if raw:
            raw = _inflate(raw, coding, limit)
    return raw


def _inflate(raw: bytes, coding: str, limit: int) -> bytes:
    """One coding undone; gzip may hold several members one after the other (RFC 1952)."""
    out: list[bytes] = []
    size = 0
    rest = raw
    while rest:
        engine = zlib.decompressobj(_window(coding, rest))
        try:
            chunk = engine.decompress(rest, limit + 1 - size)
        except zlib.error as exc:
            raise _corrupt(coding, str(exc)) from exc
        size += len(chunk)
        if size > limit:
            raise too_large(limit, decoded=True)
        if not engine.eof:
            raise _corrupt(coding, "it ends before the compressed data does")
        out.append(chunk)
        rest = engine.unused_data
        if rest and CODINGS[coding] != GZIP:
            raise _corrupt(coding, "bytes follow the compressed data")
    return b"".join(out)


def _window(coding: str, data: bytes) -> int:
    """zlib's window bits for `coding`; `deflate` is meant to be zlib-wrapped (RFC 1950), but
    some senders send raw deflate (RFC 1951), so a body without a zlib header is read raw."""
    bits = CODINGS[coding]
    if bits is not None:
        return bits
    zlib_header = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
    return zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS


def _corrupt(coding: str, why: str) -> Rejected:
    return Rejected(400, "invalid_body", f"the {coding} body cannot be decoded: {why}")
