"""Slow and idle sockets against a real `gateway serve`: closed after the configured times
(408 where a request had begun), while normal calls keep flowing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.processes import Server, serve

SLACK = "/api/webhook:trigger/example-slack-events-key-0001"
CHALLENGE = {"type": "url_verification", "challenge": "c-1"}
TIMEOUTS = {
    "GATEWAY_HEADER_TIMEOUT": "2",
    "GATEWAY_BODY_TIMEOUT": "2",
    "GATEWAY_BODY_MIN_RATE": "1024",
    "GATEWAY_KEEP_ALIVE_TIMEOUT": "2",
}


async def until_closed(reader: asyncio.StreamReader) -> bytes:
    """What the server sent before closing the connection."""
    return await reader.read()


async def slow_head(server: Server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(f"POST {SLACK} HTTP/1.1\r\nhost: gateway\r\nx-slow: ".encode())
    await writer.drain()
    return reader, writer


async def slow_body(server: Server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    head = f"POST {SLACK} HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n"
    writer.write((head + "content-length: 100000\r\n\r\n{").encode())
    await writer.drain()
    return reader, writer


async def idle(server: Server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


@pytest.mark.sqlite_only  # about sockets, not the database
async def test_slow_and_idle_sockets_are_closed_and_calls_keep_flowing(
    database_url: str, tmp_path: Path
) -> None:
    async with serve(database_url, tmp_path, **TIMEOUTS) as server:
        heads = await asyncio.gather(*(slow_head(server) for _ in range(250)))
        bodies = await asyncio.gather(*(slow_body(server) for _ in range(250)))
        idles = await asyncio.gather(*(idle(server) for _ in range(500)))

        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            answers = [await client.post(SLACK, json=CHALLENGE) for _ in range(20)]
            # a kept-alive connection left idle is closed too
            kept = await client.post(SLACK, json=CHALLENGE)
        assert {a.status_code for a in answers} == {200}
        assert kept.status_code == 200

        async with asyncio.timeout(30):
            head_ends = await asyncio.gather(*(until_closed(r) for r, _ in heads))
            body_ends = await asyncio.gather(*(until_closed(r) for r, _ in bodies))
            idle_ends = await asyncio.gather(*(until_closed(r) for r, _ in idles))
        for _, writer in heads + bodies + idles:
            writer.close()

    assert {end.split(b"\r\n")[0] for end in head_ends} == {b"HTTP/1.1 408 Request Timeout"}
    assert {end.split(b"\r\n")[0] for end in body_ends} == {b"HTTP/1.1 408 Request Timeout"}
    assert set(idle_ends) == {b""}  # nothing sent, nothing answered: just closed


@pytest.mark.sqlite_only  # about sockets, not the database
async def test_a_slow_second_request_on_a_kept_alive_connection_gets_408(
    database_url: str, tmp_path: Path
) -> None:
    # The timers of a connection's first request do not cover its second one's head.
    body = b'{"type": "url_verification", "challenge": "c-1"}'
    head = f"POST {SLACK} HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n"
    async with serve(database_url, tmp_path, **TIMEOUTS) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(f"{head}content-length: {len(body)}\r\n\r\n".encode() + body)
        first = await reader.readuntil(b'"c-1"}')
        writer.write(f"POST {SLACK} HTTP/1.1\r\nhost: gateway\r\nx-slow: ".encode())
        await writer.drain()
        async with asyncio.timeout(30):
            end = await until_closed(reader)
        writer.close()
    assert first.startswith(b"HTTP/1.1 200 OK")
    assert end.split(b"\r\n")[0] == b"HTTP/1.1 408 Request Timeout"


@pytest.mark.sqlite_only
async def test_an_idle_keep_alive_connection_is_closed(database_url: str, tmp_path: Path) -> None:
    async with serve(database_url, tmp_path, **TIMEOUTS) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        body = b'{"type": "url_verification", "challenge": "c-2"}'
        head = f"POST {SLACK} HTTP/1.1\r\nhost: g\r\ncontent-type: application/json\r\n"
        writer.write(head.encode() + b"content-length: %d\r\n\r\n" % len(body) + body)
        async with asyncio.timeout(30):
            received = await reader.read()  # the answer, then the close
        writer.close()

    assert received.startswith(b"HTTP/1.1 200 OK")
    assert received.endswith(b'{"challenge":"c-2"}')


@pytest.mark.sqlite_only
async def test_requests_beyond_the_connection_cap_get_503(
    database_url: str, tmp_path: Path
) -> None:
    async with serve(database_url, tmp_path, GATEWAY_MAX_CONNECTIONS="4") as server:
        held = await asyncio.gather(*(idle(server) for _ in range(4)))
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            refused = await client.post(SLACK, json=CHALLENGE)
        for _, writer in held:
            writer.close()

    assert refused.status_code == 503
