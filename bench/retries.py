"""The retry guarantee under load (docs/reliability.md): a downstream on 127.0.0.1 that
answers 503 to 30% of calls and drops 5% of connections (half after doing the work), many
async calls, a shortened retry schedule; on SQLite with the embedded executor, or on
PostgreSQL + Redis with workers killed (`kill -9`) and restarted during the run.

    .venv/bin/python bench/retries.py --calls 3000
    .venv/bin/python bench/retries.py --calls 3000 --postgres postgres://127.0.0.1/bench \\
        --redis redis://127.0.0.1:6379/0 --workers 2 --kill-every 5
    .venv/bin/python bench/retries.py --calls 500 --down     # dead letters and alerts

It prints how the executions ended, how many side effects the downstream did after
de-duplicating by Idempotency-Key, and how many requests it saw. Exit status 1 when the
guarantee does not hold: an execution not RESOLVED (or, with --down, not a dead letter
with one alert), or a side effect missing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import h11
import httpx

BIN = Path(sys.executable).parent
TOKEN = "bench-admin-token"
TRIGGER = "bench-retries-key-00000000001"
COUNT = "query($s: ExecutionStatus) { executions(status: $s, first: 1) { totalCount } }"
STATUSES = ("QUEUED", "STARTED", "RESOLVED", "FAILED", "ERROR", "ABORTED")


class Downstream:
    def __init__(self, down: bool) -> None:
        self.down = down
        self.random = random.Random(25)
        self.done: set[str] = set()
        self.seen = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        key = None
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await reader.read(65536))
                elif isinstance(event, h11.Request):
                    sent = {k.lower(): v for k, v in event.headers}
                    key = sent.get(b"idempotency-key", b"").decode()
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    break
            if key is None:  # closed before a whole request (a killed worker's call)
                return
            self.seen += 1
            status = self.answer(key)
            if status:
                body = b"{}"
                headers = [("content-length", str(len(body))), ("connection", "close")]
                writer.write(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
                writer.write(conn.send(h11.Data(data=body)) or b"")
                writer.write(conn.send(h11.EndOfMessage()) or b"")
                await writer.drain()
        except (ConnectionError, h11.RemoteProtocolError, h11.LocalProtocolError):
            pass
        finally:
            writer.close()

    def answer(self, key: str) -> int | None:
        """The status to send, or None to drop the connection."""
        draw = self.random.random()
        if self.down or draw < 0.30:
            return 503
        if draw < 0.35:
            if draw < 0.325:
                self.done.add(key)
            return None
        self.done.add(key)
        return 200


def document(port: int, schedule: str) -> str:
    return f"""
key: bench-retries
trigger: {{key: {TRIGGER}}}
options: {{retry: {{schedule: {schedule}}}, onFailure: {{workflow: bench-alerts}}}}
nodes:
  - key: hook
    type: request
    config:
      url: "http://127.0.0.1:{port}/hook"
      data: {{n: "{{{{$context.body.n}}}}"}}
      retry: {{attempts: 2, initialInterval: 50, maxInterval: 200}}
---
key: bench-alerts
nodes:
  - {{key: note, type: end, config: {{endStatus: 1}}}}
"""


def gateway(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(BIN / "gateway"), *args], env=env, cwd=cwd, stderr=subprocess.DEVNULL
    )


async def counts(client: httpx.AsyncClient) -> dict[str, int]:
    out = {}
    for status in STATUSES:
        answer = await client.post("/graphql", json={"query": COUNT, "variables": {"s": status}})
        out[status] = answer.json()["data"]["executions"]["totalCount"]
    return out


def environment(options: argparse.Namespace, work: Path) -> dict[str, str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
        "GATEWAY_DATABASE_URL": options.postgres or f"sqlite://{work}/gateway.db",
        "GATEWAY_ADMIN_TOKENS": TOKEN,
        "GATEWAY_DEV": "1",
        "GATEWAY_OUTBOUND_ALLOW": "127.0.0.0/8",
        "GATEWAY_CONFIG": "/nonexistent",
    }
    if options.redis:
        env |= {"GATEWAY_REDIS_URL": options.redis, "GATEWAY_LEASE": "3"}
    return env


async def send(client: httpx.AsyncClient, calls: int) -> None:
    for _ in range(100):  # the server's start-up
        try:
            await client.get("/healthz")
            break
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    sent = asyncio.Semaphore(64)

    async def call(n: int) -> None:
        async with sent:
            answer = await client.post(f"/api/webhook:trigger/{TRIGGER}", json={"n": n})
            answer.raise_for_status()

    await asyncio.gather(*(call(n) for n in range(calls)))


class Workers:
    """`gateway worker` processes, one of them killed (-9) and replaced every `every` s."""

    def __init__(self, count: int, every: float, env: dict[str, str], work: Path) -> None:
        self.env, self.work, self.every = env, work, every
        self.processes = [gateway(["worker"], env, work) for _ in range(count)]
        self.last = time.monotonic()
        self.kills = 0

    def maybe_kill(self) -> None:
        if not self.processes or not self.every or time.monotonic() - self.last < self.every:
            return
        victim = self.processes.pop(0)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        self.processes.append(gateway(["worker"], self.env, self.work))
        self.last = time.monotonic()
        self.kills += 1


async def until_done(client: httpx.AsyncClient, workers: Workers) -> dict[str, int]:
    while True:
        now = await counts(client)
        if now["QUEUED"] + now["STARTED"] == 0:
            return now
        workers.maybe_kill()
        await asyncio.sleep(0.5)


async def main(options: argparse.Namespace) -> int:
    downstream = Downstream(options.down)
    server = await asyncio.start_server(downstream.serve, "127.0.0.1", 0, backlog=4096)
    work = Path(tempfile.mkdtemp(prefix="bench-retries-"))
    env = environment(options, work)
    schedule = "[" + ", ".join(["200ms"] * 20) + "]"
    (work / "bench.yaml").write_text(document(server.sockets[0].getsockname()[1], schedule))
    subprocess.run([str(BIN / "gateway"), "migrate"], env=env, cwd=work, check=True)
    subprocess.run([str(BIN / "gateway"), "apply", "bench.yaml"], env=env, cwd=work, check=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    serve = gateway(["serve", "--port", str(port)], env, work)
    workers = Workers(options.workers if options.redis else 0, options.kill_every, env, work)
    started = time.monotonic()
    headers = {"authorization": f"Bearer {TOKEN}"}
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30
        ) as client:
            await send(client, options.calls)
            ended = await until_done(client, workers)
    finally:
        for process in [serve, *workers.processes]:
            process.terminate()
            process.wait(30)
        server.close()
    report: dict[str, Any] = {
        "calls": options.calls,
        "seconds": round(time.monotonic() - started, 1),
        "executions": ended,
        "side effects": len(downstream.done),
        "requests seen": downstream.seen,
        "workers killed": workers.kills,
    }
    print(report)
    if options.down:  # a dead letter and one (RESOLVED) alert each
        held = ended["FAILED"] == ended["RESOLVED"] == options.calls
    else:
        held = ended["RESOLVED"] == options.calls == len(downstream.done)
    return 0 if held else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--postgres", help="a PostgreSQL URL (an empty database)")
    parser.add_argument("--redis", help="a Redis URL: run workers")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-every", type=float, default=0, help="kill -9 a worker every S s")
    parser.add_argument("--down", action="store_true", help="a downstream that is always 503")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
