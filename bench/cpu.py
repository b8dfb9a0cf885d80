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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run as b

TICK = os.sysconf("SC_CLK_TCK")


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
    with tempfile.TemporaryDirectory(prefix="gateway-cpu-") as work:
        run(
            b.Scenarios(argparse.Namespace(duration=seconds, connections=32, rounds=1), Path(work)),
            rounds,
            seconds,
        )


def run(bench: b.Scenarios, rounds: int, seconds: int) -> None:
    with bench.scaled() as s:

        def sample() -> tuple[int, ...]:
            pids = (s.gateway.proc.pid, s.worker.proc.pid)
            return (*map(ticks, pids), named("postgres"), named("redis-server"))

        url = s.gateway.url + b.ASYNC_PATH
        b.wrk(url, bench.body, 32, 2)  # warm-up
        b.wait_finished(s.unfinished, 30)
        for _ in range(rounds):
            count = s.executions()
            before = sample()
            measured = b.wrk(url, bench.body, 32, seconds)
            _, drain = b.wait_finished(s.unfinished, 30)
            after = sample()
            count = s.executions() - count
            spent = zip(before, after, strict=True)
            us = [round((y - x) / TICK / count * 1e6) for x, y in spent]
            print(
                f"req/s {measured.rps:.0f}  executions {count}  drain {drain:.2f} s  "
                f"CPU µs per execution: server {us[0]}  worker {us[1]}  "
                f"postgres {us[2]}  redis {us[3]}  sum {sum(us)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
