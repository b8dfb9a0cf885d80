"""Real HTTP/1.1 servers on 127.0.0.x for the request node's tests (asyncio + h11).

    async with TestServer(handler, host="127.0.0.2") as server:
        server.url("/orders")      # http://127.0.0.2:<port>/orders
        server.received            # every request, in order

A handler gets the `Received` request and returns an `Answer`; it may wait on an event the
test never sets (a slow service) — closing the server cancels it. One request per
connection (`Connection: close`), unless `keep_alive`: then a connection serves requests
until the client closes it, and `connections` counts the connections accepted. With
`tls` (a server-side context) it serves HTTPS.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import h11


@dataclass
class Received:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes | str | Any = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def encoded(self, keep_alive: bool = False) -> tuple[list[tuple[str, str]], bytes]:
        headers = list(self.headers)
        body = self.body
        if not isinstance(body, bytes | str):
            body = json.dumps(body)
            headers.append(("content-type", "application/json"))
        data = body.encode() if isinstance(body, str) else body
        headers.append(("content-length", str(len(data))))
        return headers if keep_alive else [*headers, ("connection", "close")], data


Handler = Callable[[Received], Awaitable[Answer]]


async def echo(request: Received) -> Answer:
    """Answers with what it received, as JSON."""
    body = request.body.decode()
    return Answer(200, {"method": request.method, "target": request.target, "body": body})


class TestServer:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(
        self,
        handler: Handler = echo,
        host: str = "127.0.0.2",
        keep_alive: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.handler = handler
        self.host = host
        self.keep_alive = keep_alive
        self.tls = tls
        self.port = 0
        self.connections = 0
        self.received: list[Received] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def url(self, path: str = "/", host: str | None = None) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    async def __aenter__(self) -> TestServer:
        self._server = await asyncio.start_server(self._connection, self.host, 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self.drop()
        await self._server.wait_closed()

    async def drop(self) -> None:
        """Close every open connection, as a server whose keep-alive ran out does."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            conn = h11.Connection(h11.SERVER)
            while await self._serve(conn, reader, writer) and self.keep_alive:
                conn.start_next_cycle()
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request on the connection; whether one was served."""
        request: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
        if request is None:
            return False
        received = Received(
            request.method.decode(),
            request.target.decode(),
            {k.decode().lower(): v.decode() for k, v in request.headers},
            bytes(body),
        )
        self.received.append(received)
        answer = await self.handler(received)
        headers, data = answer.encoded(self.keep_alive)
        writer.write(conn.send(h11.Response(status_code=answer.status, headers=headers)) or b"")
        writer.write(conn.send(h11.Data(data=data)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        return True
