"""`gateway serve` as a real subprocess on a free port, for tests over real HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from tests.support import GATEWAY_BIN, ROOT, TEST_SECRET_KEY, free_port

READY = b"Application startup complete"


class Server:
    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log: list[str] = []
        self._ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.log.append(line.decode(errors="replace"))
            if READY in line:
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
