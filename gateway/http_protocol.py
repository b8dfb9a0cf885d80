"""uvicorn's httptools protocol, with each response's head sent in the same write as its body.

uvicorn writes an answer's status line and headers when the application sends
`http.response.start`, and its body when it sends `http.response.body`: two writes, two
syscalls and two TCP segments for every answer, on the event loop's thread, which is what
limits sync calls. Here the head is held until the next write, which carries both; a head
that no body follows in the same turn of the event loop (a streamed answer waiting for its
first part) goes out on the next turn on its own, and closing the connection sends it first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Above this, the head and the body go out in one writev instead of one joined copy.
_JOIN_LIMIT = 64 * 1024


class HeldHeadTransport:
    """A transport that holds a write starting with a status line until the next write."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if type(data) is bytes and len(data) < _JOIN_LIMIT:
                self._transport.write(held + data)
            else:  # large, or another buffer type (bytearray, memoryview)
                self._transport.writelines((held, data))
        elif type(data) is bytes and data.startswith(b"HTTP/"):
            self._held = data
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def writelines(self, lines: Any) -> None:
        self.flush()
        self._transport.writelines(lines)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def get_write_buffer_size(self) -> int:
        held = self._held
        return self._transport.get_write_buffer_size() + (len(held) if held else 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """`gateway serve`'s HTTP protocol: uvicorn's httptools protocol over a
    `HeldHeadTransport`, so an answer's head and body leave in one write."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = HeldHeadTransport(transport, self.loop)  # type: ignore[assignment]
