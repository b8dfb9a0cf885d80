"""`gateway serve`'s HTTP protocol: an answer's head and body in one write, and nothing
else changed (streamed answers, keep-alive, HEAD, answers to malformed requests)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gateway.http_protocol import HeldHeadTransport, OneWriteHttpToolsProtocol


class Recording:
    """The socket side of a transport: what was written, in which calls."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        self.writes.append(b"".join(lines))

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"extra {name}"


def held() -> tuple[HeldHeadTransport, Recording]:
    recording = Recording()
    return HeldHeadTransport(recording, asyncio.get_running_loop()), recording  # type: ignore[arg-type]


async def test_head_and_body_leave_in_one_write() -> None:
    transport, sent = held()
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert sent.writes == []
    transport.write(b"ok")
    assert sent.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    await asyncio.sleep(0)  # the scheduled flush finds nothing held
    assert len(sent.writes) == 1


async def test_a_head_without_a_body_goes_out_on_the_next_turn() -> None:
    transport, sent = held()
    transport.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    assert sent.writes == []
    await asyncio.sleep(0)
    assert sent.writes == [b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"]
    transport.write(b"2\r\nok\r\n")
    assert sent.writes[1] == b"2\r\nok\r\n"


async def test_close_sends_a_held_head_first() -> None:
    transport, sent = held()
    transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
    transport.close()
    assert sent.writes == [b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n"]
    assert sent.closed
    await asyncio.sleep(0)
    assert len(sent.writes) == 1


async def test_other_writes_pass_through_and_large_bodies_are_not_copied() -> None:
    transport, sent = held()
    transport.write(b"0\r\n\r\n")
    assert sent.writes == [b"0\r\n\r\n"]
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert transport.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\n\r\n")
    body = b"x" * (1 << 20)
    transport.write(body)
    assert sent.writes[1] == b"HTTP/1.1 200 OK\r\n\r\n" + body
    assert transport.get_extra_info("peername") == "extra peername"
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(memoryview(b"view"))  # a body that is not bytes still follows its head
    assert sent.writes[2] == b"HTTP/1.1 200 OK\r\n\r\nview"


async def numbers(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for n in range(3):
            yield f"{n}\n".encode()
            await asyncio.sleep(0.01)

    return StreamingResponse(parts(), media_type="text/plain")


async def echo(request: Request) -> Response:
    return JSONResponse({"got": (await request.json())["value"]}, headers={"x-kind": "echo"})


APP = Starlette(
    routes=[
        Route("/echo", echo, methods=["POST"]),
        Route("/numbers", numbers),
        Route("/empty", lambda request: Response(status_code=204), methods=["GET", "HEAD"]),
    ]
)


@pytest.fixture
async def server() -> AsyncIterator[str]:
    """uvicorn with this protocol on a socket listening before it starts: a connection made
    meanwhile waits in the backlog, so there is nothing to wait for."""
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    config = uvicorn.Config(
        APP, loop="none", http=OneWriteHttpToolsProtocol, lifespan="off", log_level="warning"
    )
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve(sockets=[listening]))
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    await task
    listening.close()


async def test_answers_over_one_kept_alive_connection(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        for value in range(5):
            answer = await client.post("/echo", json={"value": value})
            assert (answer.status_code, answer.json()) == (200, {"got": value})
            assert answer.headers["x-kind"] == "echo"
        streamed = await client.get("/numbers")
        assert streamed.text == "0\n1\n2\n"
        assert streamed.headers["transfer-encoding"] == "chunked"
        head = await client.head("/empty")
        assert (head.status_code, head.content) == (204, b"")


async def test_a_malformed_request_gets_its_400_before_the_close(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"NOT AN HTTP REQUEST\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), timeout=5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 400 ")
