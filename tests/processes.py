"""Real processes for tests: `gateway serve` on a free port, `gateway worker`, a Redis of the
test's own, and a TCP proxy that can cut the database off."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from tests.support import GATEWAY_BIN, ROOT, TEST_ADMIN_TOKEN, TEST_SECRET_KEY, free_port

READY = b"Uvicorn running on"  # after start-up, once the socket listens


class Server:
    def __init__(
        self, process: asyncio.subprocess.Process, port: int, ready: bytes = READY
    ) -> None:
        self.process = process
        self.port = port
        self.ready_marker = ready
        self.base_url = f"http://127.0.0.1:{port}"
        self.log: list[str] = []
        self._ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.log.append(line.decode(errors="replace"))
            if self.ready_marker in line:
                self._ready.set()
        self._ready.set()

    async def wait_ready(self, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            await self._ready.wait()
        if self.process.returncode is not None:
            raise RuntimeError("server exited during start-up:\n" + "".join(self.log))

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    async def wait(self, timeout: float = 30) -> int:
        async with asyncio.timeout(timeout):
            code = await self.process.wait()
            await self._reader
        return code


@asynccontextmanager
async def serve(database_url: str, cwd: Path, **env: str) -> AsyncIterator[Server]:
    port = free_port()
    environment = {
        **os.environ,
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_CONFIG": "/nonexistent/gateway.toml",
        "GATEWAY_WORKFLOWS_DIR": str(ROOT / "config" / "workflows"),
        "GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
        "GATEWAY_ADMIN_TOKENS": TEST_ADMIN_TOKEN,
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        GATEWAY_BIN,
        "serve",
        "--port",
        str(port),
        cwd=cwd,
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    server = Server(process, port)
    try:
        await server.wait_ready()
        yield server
    finally:
        if process.returncode is None:
            server.kill()
        with suppress(ProcessLookupError, TimeoutError):
            await server.wait(10)


WORKER_READY = b"worker connected to Redis"


async def start_worker(database_url: str, cwd: Path, **env: str) -> Server:
    """A `gateway worker` process, ready once it is connected to Redis; the caller stops it."""
    environment = {
        **os.environ,
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_CONFIG": "/nonexistent/gateway.toml",
        "GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        GATEWAY_BIN,
        "worker",
        cwd=cwd,
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    worker = Server(process, 0, WORKER_READY)
    await worker.wait_ready()
    return worker


async def stop(process: Server, kill: bool = False) -> int:
    if process.process.returncode is None:
        process.kill() if kill else process.terminate()
    return await process.wait(60)


class RedisServer:
    """A Redis of the test's own on a free port, that the test can kill and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        async with asyncio.timeout(10):
            async for line in self.process.stdout:
                if b"Ready to accept connections" in line:
                    break
        self._drain = asyncio.create_task(self._discard(self.process))

    @staticmethod
    async def _discard(process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for _ in process.stdout:
            pass

    async def kill(self) -> None:
        """SIGKILL: everything in memory (the queue) is lost, as in a crash."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
            await self._drain


class TcpProxy:
    """127.0.0.1:port → upstream, with a switch that cuts every connection and refuses new
    ones (a network partition) and one that restores service."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.cut_off = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        self.cut_off = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.cut_off = False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )
        self._writers -= {writer, up_writer}

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
