"""CPU per execution under scenario 3's load, by process: `python bench/cpu.py [ROUNDS] [SECONDS]`.

One server and one `gateway worker` on a fresh PostgreSQL database with Redis, as in
`bench/run.py` scenario 3. Each round drives the async path with wrk (32 connections),
waits until every execution has run, and prints the CPU time (from `/proc`) the server, the
worker, all PostgreSQL processes and Redis spent per execution. With both cores saturated,
CPU per execution is what bounds throughput, and it moves less with the host's speed than
a ratio of two wrk runs does: compare two trees by alternating them
(`cd TREE && PYTHONPATH=TREE python bench/cpu.py`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run as b

TICK = os.sysconf("SC_CLK_TCK")
UNFINISHED = "SELECT COUNT(*) FROM executions WHERE status IN ('QUEUED', 'STARTED')"


def ticks(pid: int | str) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def named(command: str) -> int:
    """Ticks of every process called `command` (PostgreSQL's backends and helpers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == command:
                    total += ticks(entry.name)
            except OSError:
                pass  # gone meanwhile
    return total


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    work = Path(tempfile.mkdtemp(prefix="gateway-cpu-"))
    bench = b.Bench(argparse.Namespace(duration=seconds, connections=32, rounds=1), work)
    name = f"cpu_{uuid.uuid4().hex[:8]}"
    b.pg(f'CREATE DATABASE "{name}"')
    url = b.postgres_admin().rsplit("/", 1)[0] + "/" + name
    redis = os.environ.get("GATEWAY_BENCH_REDIS", "redis://127.0.0.1:6379/0")
    env = bench.gateway_env(url, GATEWAY_REDIS_URL=redis, GATEWAY_REDIS_QUEUE=f"bench:{name}")
    bench.cli(env, "migrate")
    bench.cli(env, "apply", str(b.HERE / "workflows"))

    def unfinished() -> int:
        return int(b.pg(UNFINISHED, name))

    try:
        worker = [str(b.BIN / "gateway"), "worker"]
        with (
            bench.gateway(env) as gw,
            b.running(worker, env, b.free_port(), work, http=False) as wk,
        ):

            def sample() -> tuple[int, ...]:
                pids = (gw.proc.pid, wk.proc.pid)
                return (*map(ticks, pids), named("postgres"), named("redis-server"))

            b.wrk(gw.url + b.ASYNC_PATH, bench.body, 32, 2)  # warm-up
            b.wait_finished(unfinished, 30)
            for _ in range(rounds):
                count = int(b.pg("SELECT COUNT(*) FROM executions", name))
                before = sample()
                measured = b.wrk(gw.url + b.ASYNC_PATH, bench.body, 32, seconds)
                _, drain = b.wait_finished(unfinished, 30)
                after = sample()
                count = int(b.pg("SELECT COUNT(*) FROM executions", name)) - count
                spent = zip(before, after, strict=True)
                us = [round((y - x) / TICK / count * 1e6) for x, y in spent]
                print(
                    f"req/s {measured.rps:.0f}  executions {count}  drain {drain:.2f} s  "
                    f"CPU µs per execution: server {us[0]}  worker {us[1]}  "
                    f"postgres {us[2]}  redis {us[3]}  sum {sum(us)}",
                    flush=True,
                )
    finally:
        b.pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
