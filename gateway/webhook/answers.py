"""The HTTP answers of the webhook endpoint, sent straight over ASGI.

A JSON value goes out as `application/json`, a string as `text/plain` unless a configured
`content-type` header says otherwise, no body as empty (docs/webhooks.md, Answer bodies and
headers).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.core.errors import Rejected

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
JSON_TYPE = (b"content-type", b"application/json")
TEXT_TYPE = (b"content-type", b"text/plain; charset=utf-8")
_CONTROL = {i: " " for i in range(32)} | {127: " "}
BODILESS = frozenset({204, 304})


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    async def send(self, send: Send) -> None:
        headers = self.headers
        if self.status not in BODILESS:  # 204 and 304 carry neither a body nor its length
            headers = [*headers, (b"content-length", str(len(self.body)).encode())]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def header_value(value: str) -> bytes:
    """A header value safe to send: control characters (CR, LF…) become spaces."""
    return value.translate(_CONTROL).encode("latin-1", errors="replace")


def execution_header(execution_id: str) -> tuple[bytes, bytes]:
    return (b"x-execution-id", execution_id.encode())


def answer(
    status: int,
    headers: Iterable[tuple[str, str]],
    body: Any,
    execution_id: str | None = None,
) -> Answer:
    raw = [(name.lower().encode("latin-1"), header_value(value)) for name, value in headers]
    typed = any(name == b"content-type" for name, _ in raw)
    if body is None or status in BODILESS:
        content = b""
    elif isinstance(body, str):
        content = body.encode()
        if not typed:
            raw.append(TEXT_TYPE)
    else:
        content = orjson.dumps(body)
        if not typed:
            raw.append(JSON_TYPE)
    if execution_id is not None:
        raw.append(execution_header(execution_id))
    return Answer(status, raw, content)


def json_answer(
    status: int,
    data: Any,
    execution_id: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Answer:
    return answer(status, headers, data, execution_id)


def rejected_answer(rejected: Rejected) -> Answer:
    return json_answer(rejected.status, rejected.body(), headers=rejected.headers.items())


NOT_FOUND = Rejected(404, "not_found", "no webhook at this address")
METHOD_NOT_ALLOWED = Rejected(
    405, "method_not_allowed", "webhooks accept POST only", headers={"allow": "POST"}
)


def unavailable(retry_after: int) -> Answer:
    return json_answer(
        503,
        {"error": "unavailable", "message": "the gateway cannot store this call now; retry later"},
        headers=[("retry-after", str(retry_after))],
    )


def internal_error() -> Answer:
    return json_answer(500, {"error": "internal", "message": "internal error"})
