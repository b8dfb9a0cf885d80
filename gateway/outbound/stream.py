"""httpcore's network I/O on asyncio's own transports, for the outbound client.

httpcore's default backend for asyncio goes through anyio: every read and write opens a
cancel scope (which looks up the current task several times), and the pool's check of
each idle connection before every call builds anyio's table of socket attributes to
find the socket. Under a busy `request` node those were a fifth of the server's time.
Here a read or write is a buffer and a future, a timeout is asyncio's, and an idle
connection is known to be closed by the peer from what its protocol already received.

The errors are httpcore's, with the operating system's error as their cause, as the
anyio backend raises them: `ConnectError`/`ConnectTimeout` while connecting or in the
TLS handshake, `ReadError`/`ReadTimeout`, `WriteError`/`WriteTimeout`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable
from typing import Any, cast

import httpcore

# Past this many unread bytes the connection stops reading until the caller catches up.
HIGH_WATER = 256 * 1024


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.lost: BaseException | None = None  # why the connection ended, when it did
        self.closed = False
        self.paused = False  # reading, for the caller to catch up
        self._reader: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio's classes
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False  # close the transport: a half-closed HTTP/1.1 connection is done

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.lost = exc
        self._wake_reader()
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def pause_writing(self) -> None:
        if self._drain is None or self._drain.done():
            self._drain = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def _wake_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    def readable(self) -> asyncio.Future[None]:
        self._reader = asyncio.get_running_loop().create_future()
        return self._reader

    def drained(self) -> asyncio.Future[None] | None:
        return self._drain if self._drain is not None and not self._drain.done() else None


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.buffer and not protocol.eof and not protocol.closed:
            try:
                async with asyncio.timeout(timeout):
                    await protocol.readable()
            except TimeoutError as exc:
                raise httpcore.ReadTimeout(str(exc)) from exc
        if protocol.buffer:
            if len(protocol.buffer) <= max_bytes:
                data = bytes(protocol.buffer)
                protocol.buffer.clear()
            else:
                data = bytes(protocol.buffer[:max_bytes])
                del protocol.buffer[:max_bytes]
            if protocol.paused and len(protocol.buffer) <= HIGH_WATER // 2:
                protocol.paused = False
                self._transport.resume_reading()
            return data
        if protocol.lost is not None:
            raise httpcore.ReadError(str(protocol.lost)) from protocol.lost
        return b""  # the peer closed the connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.closed or self._transport.is_closing():
            lost = protocol.lost or ConnectionResetError("the connection is closed")
            raise httpcore.WriteError(str(lost)) from lost
        self._transport.write(buffer)
        drained = protocol.drained()
        if drained is not None:
            try:
                async with asyncio.timeout(timeout):
                    await drained
            except TimeoutError as exc:
                raise httpcore.WriteTimeout(str(exc)) from exc
            if protocol.closed:
                lost = protocol.lost or ConnectionResetError("the connection is closed")
                raise httpcore.WriteError(str(lost)) from lost

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except (OSError, ssl.SSLError, EOFError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:  # the connection ended during the handshake
            self._transport.close()
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        self._protocol.transport = transport
        return AsyncioStream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # Asked of an idle connection: anything received, or its end, means the peer
            # has closed it (or broke the protocol); either way it is not to be reused.
            protocol = self._protocol
            return bool(protocol.buffer) or protocol.eof or protocol.closed
        name = {
            "ssl_object": "ssl_object",
            "client_addr": "sockname",
            "server_addr": "peername",
            "socket": "socket",
        }.get(info)
        return None if name is None else self._transport.get_extra_info(name)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = None if local_address is None else (local_address, 0)
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol, host, port, local_addr=local
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock: socket.socket | None = transport.get_extra_info("socket")
        for option in socket_options or ():
            if sock is not None:
                sock.setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("the outbound client calls TCP addresses only")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
