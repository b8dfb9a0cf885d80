"""A call to a workflow with an open capture (docs/testing.md, Capture): its body kept as
it is read, then recorded with the answer it got. A disabled workflow's call is read and
answered 202 without running anything."""

from __future__ import annotations

import logging
from collections.abc import Iterable, MutableMapping
from typing import Any

from gateway.core.errors import GatewayError, Rejected
from gateway.service.captures import MAX_CALL_BYTES, CaptureRow, Captures, Recording, redact_query
from gateway.webhook.answers import Answer, answer
from gateway.webhook.parsing import Receive, content_codings, decode_body

log = logging.getLogger("gateway.webhook")


class Teed:
    """`receive`, keeping every body chunk read through it."""

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.chunks: list[bytes] = []

        self.done = False

    async def __call__(self) -> MutableMapping[str, Any]:
        message = await self.receive()
        if message.get("type") == "http.request":
            self.chunks.append(message.get("body", b""))
            self.done = not message.get("more_body", False)
        else:
            self.done = True
        return message

    async def drain(self, limit: int) -> None:
        """Read what is left of the body, up to `limit` bytes in all: a call refused before
        its body was read (401, 429) is recorded with it."""
        while not self.done and sum(map(len, self.chunks)) <= limit:
            await self()

    def body(self, headers: dict[str, str], limit: int) -> tuple[bytes, dict[str, str]]:
        """The body read so far, decoded when it has a content coding the gateway decodes
        (the headers then lose `content-encoding`)."""
        raw = b"".join(self.chunks)
        coding = headers.get("content-encoding")
        if not coding:
            return raw, headers
        try:
            decoded = decode_body(raw, content_codings(coding), limit)
        except Rejected:
            return raw, headers
        return decoded, {k: v for k, v in headers.items() if k != "content-encoding"}


def header_dict(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def captured_answer(workflow_key: str) -> Answer:
    message = f"workflow {workflow_key} is disabled: the call was captured and nothing ran"
    return answer(202, [], {"captured": True, "message": message})


async def record(
    captures: Captures,
    capture: CaptureRow,
    scope: MutableMapping[str, Any],
    teed: Teed,
    status: int,
    limit: int,
) -> bool:
    """Whether the call was stored; a failure to store it is logged, not raised."""
    await teed.drain(MAX_CALL_BYTES)
    headers = header_dict(scope["headers"])
    body, headers = teed.body(headers, limit)
    recording = Recording(
        method=scope["method"],
        path=scope["path"],
        headers=headers,
        query=redact_query(scope.get("query_string", b"").decode("latin-1")),
        body=body,
        answer_status=status,
    )
    try:
        return await captures.record(capture, recording) is not None
    except GatewayError as exc:
        log.warning("a captured call could not be stored: %s", exc, extra={"capture": capture.id})
        return False
