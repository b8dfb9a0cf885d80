"""What the shortcuts save: scenarios 1, 2, 3 and 7 of `bench/run.py` with
`GATEWAY_SHORTCUTS` on and off, in the same run (`python bench/shortcuts.py [--only 1,2,3,7]
[--rounds N]`).

Two gateways run side by side, one with the shortcuts on and one with them off, each on a
database of its own (for 3, a server and a worker each, on PostgreSQL databases and Redis
queues of their own). A round drives the bare endpoint, then both gateways one after the
other, the order swapped every round, and reports per gateway:

- 1, 2 and 3: the ratio of its req/s to the bare run of the same round, and the CPU time its
  processes (server; server and worker for 3) spent per request, from `/proc`, which a
  shared host disturbs less than a rate;
- 2 and 3: how long the executors took after the load to run what was accepted (`drain`,
  waited for up to `DRAIN_LIMIT`), and the executions run per second of load and drain
  against the bare rate (`run ratio`): the rate this stack can keep up;
- 7: the p50 of scenario 7 (one connection, every request different so the answer cache
  never hits) and of the same request repeated (answered from the cache).

The table gives the median and the range over the rounds: on a shared host, read the
medians, and a difference smaller than the ranges as none.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run as b
from bench.cpu import TICK, ticks

SWITCHES = ("true", "false")
DRAIN_LIMIT = 300.0


@dataclass
class Stack:
    """A gateway under test: its URL, its processes, and (async) its execution counts."""

    url: str
    pids: tuple[int, ...]
    unfinished: Callable[[], int] | None = None
    executions: Callable[[], int] | None = None

    def cpu_s(self) -> float:
        return sum(ticks(pid) for pid in self.pids) / TICK


Row = dict[str, float]


class Switched(b.Scenarios):
    """`bench/run.py`'s scenarios, whose processes start with the shortcuts as `switch` says."""

    switch = "true"

    def gateway_env(self, database_url: str, **extra: str) -> dict[str, str]:
        return {**super().gateway_env(database_url, **extra), "GATEWAY_SHORTCUTS": self.switch}

    @contextlib.contextmanager
    def both(
        self, start: Callable[[], contextlib.AbstractContextManager[Stack]]
    ) -> Iterator[dict[str, Stack]]:
        with contextlib.ExitStack() as stack:
            stacks = {}
            for switch in SWITCHES:
                self.switch = switch
                stacks[switch] = stack.enter_context(start())
            yield stacks

    def order(self, n: int) -> tuple[str, ...]:
        return SWITCHES if n % 2 == 0 else SWITCHES[::-1]

    def rounds(self, stacks: dict[str, Stack], path: str) -> list[Row]:
        c = self.args.connections
        rows = []
        with self.bare() as bare:
            b.wrk(bare.url + "/hook", self.body, c, 2)
            for stack in stacks.values():
                b.wrk(stack.url + path, self.body, c, 2)
                self.drain(stack)
            for n in range(self.args.rounds):
                reference = b.wrk(bare.url + "/hook", self.body, c, self.args.duration)
                row = {"bare_rps": reference.rps}
                for switch in self.order(n):
                    row |= self.measure(stacks[switch], path, reference.rps, switch)
                rows.append(row)
        return rows

    def measure(self, stack: Stack, path: str, bare_rps: float, switch: str) -> Row:
        seconds = self.args.duration
        cpu, executions = stack.cpu_s(), stack.executions() if stack.executions else 0
        measured = b.wrk(stack.url + path, self.body, self.args.connections, seconds)
        drain = self.drain(stack)
        cpu = stack.cpu_s() - cpu
        if stack.executions is None:
            done = measured.rps * seconds
        else:
            done = stack.executions() - executions
        row = {switch: measured.rps / bare_rps, f"cpu_us_{switch}": cpu / done * 1e6}
        if stack.executions is not None:
            row[f"drain_{switch}"] = drain
            row[f"run_{switch}"] = done / (seconds + drain) / bare_rps
        return row

    def drain(self, stack: Stack) -> float:
        """Seconds until the stack has run every execution it accepted (async only)."""
        if stack.unfinished is None:
            return 0.0
        done, seconds = b.wait_finished(stack.unfinished, DRAIN_LIMIT)
        if not done:
            raise RuntimeError(f"not drained within {DRAIN_LIMIT} s")
        return seconds

    @contextlib.contextmanager
    def sync_stack(self) -> Iterator[Stack]:
        url = self.sqlite_db(f"sync-{self.switch}.db")
        with self.gateway(self.gateway_env(url)) as gw:
            yield Stack(gw.url, (gw.proc.pid,))

    @contextlib.contextmanager
    def embedded_stack(self) -> Iterator[Stack]:
        url = self.sqlite_db(f"async-{self.switch}.db")
        path = url.removeprefix("sqlite://")

        def executions() -> int:
            with sqlite3.connect(path) as conn:
                return int(conn.execute("SELECT COUNT(*) FROM executions").fetchone()[0])

        with self.gateway(self.gateway_env(url)) as gw:
            yield Stack(gw.url, (gw.proc.pid,), lambda: b.unfinished_sqlite(url), executions)

    @contextlib.contextmanager
    def scaled_stack(self) -> Iterator[Stack]:
        with self.scaled() as s:
            pids = (s.gateway.proc.pid, s.worker.proc.pid)
            yield Stack(s.gateway.url, pids, s.unfinished, s.executions)

    @contextlib.contextmanager
    def graphql_stack(self) -> Iterator[Stack]:
        url = f"sqlite://{self.work / f'many-{self.switch}.db'}"
        with self.gateway(self.gateway_env(url)) as gw:
            yield Stack(gw.url, (gw.proc.pid,))

    def graphql_rounds(self) -> list[Row]:
        """Scenario 7 on copies of one database with 10,000 workflows."""
        source = self.sqlite_db("many.db")
        subprocess.run(
            [sys.executable, str(b.HERE / "many.py"), source, "10000"],
            check=True,
            env={**os.environ, **self.gateway_env(source)},
            cwd=self.work,
            capture_output=True,
        )
        for switch in SWITCHES:
            with (
                sqlite3.connect(source.removeprefix("sqlite://")) as original,
                sqlite3.connect(self.work / f"many-{switch}.db") as copy,
            ):
                original.backup(copy)
        rows = []
        with self.both(self.graphql_stack) as stacks:
            for stack in stacks.values():  # warm-up: the relation cache
                self.graphql_latency(stack.url)
            for n in range(self.args.rounds):
                row: Row = {}
                for switch in self.order(n):
                    uncached, cached = self.graphql_latency(stacks[switch].url)
                    row[switch], row[f"cached_{switch}"] = uncached.p50_ms, cached.p50_ms
                rows.append(row)
        return rows


def spread(values: list[float], digits: int = 2) -> str:
    """The median, and the range in brackets."""
    low, high = min(values), max(values)
    return f"{statistics.median(values):.{digits}f} [{low:.{digits}f}..{high:.{digits}f}]"


def report(number: int, rows: list[Row]) -> str:
    column = {key: [row[key] for row in rows] for key in rows[0]}
    if number == 7:
        ratio = [row["false"] / row["true"] for row in rows]
        return (
            f"7  p50 ms on {spread(column['true'])}  off {spread(column['false'])}  "
            f"off/on {spread(ratio)}  cached p50 ms on {spread(column['cached_true'])}  "
            f"off {spread(column['cached_false'])}"
        )
    ratio = [row["true"] / row["false"] for row in rows]
    line = (
        f"{number}  ratio to bare on {spread(column['true'])}  off {spread(column['false'])}  "
        f"on/off {spread(ratio)}  CPU µs per request on {spread(column['cpu_us_true'], 0)}  "
        f"off {spread(column['cpu_us_false'], 0)}  bare req/s {spread(column['bare_rps'], 0)}"
    )
    if number in (2, 3):
        line += (
            f"  drain s on {spread(column['drain_true'])}  off {spread(column['drain_false'])}"
            f"  run ratio on {spread(column['run_true'])}  off {spread(column['run_false'])}"
        )
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=6, help="rounds per scenario")
    parser.add_argument("--only", default="1,2,3,7", help="comma-separated: 1, 2, 3, 7")
    args = parser.parse_args()
    b.need_wrk()
    lines = []
    with tempfile.TemporaryDirectory(prefix="gateway-shortcuts-") as work:
        bench = Switched(args, Path(work))
        for number in sorted(int(n) for n in args.only.split(",")):
            print(f"running scenario {number} ...", file=sys.stderr, flush=True)
            if number == 1:
                with bench.both(bench.sync_stack) as stacks:
                    rows = bench.rounds(stacks, b.SYNC_PATH)
            elif number == 2:
                with bench.both(bench.embedded_stack) as stacks:
                    rows = bench.rounds(stacks, b.ASYNC_PATH)
            elif number == 3:
                with bench.both(bench.scaled_stack) as stacks:
                    rows = bench.rounds(stacks, b.ASYNC_PATH)
            elif number == 7:
                rows = bench.graphql_rounds()
            else:
                parser.error(f"scenario {number}: only 1, 2, 3 and 7 have shortcuts")
            for row in rows:
                print(number, {k: round(v, 3) for k, v in row.items()}, file=sys.stderr)
            lines.append(report(number, rows))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
