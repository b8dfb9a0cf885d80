"""`make bench`: the gateway against a bare Starlette endpoint, in the same run.

Each scenario drives both servers with wrk (same connections and duration), alternating
A/B `--rounds` times, and reports requests/s, p50 and p99 and the ratio to the bare
endpoint (median of the pairs). Results go to bench/results/latest.json. It prepares its
own databases and workflows in a temporary directory and leaves nothing running.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench import history, live  # noqa: E402  (run as a script: the repository root first)

BIN = Path(sys.executable).parent
PAYLOAD = (HERE / "payload.json").read_text()
AUTH = "Basic YmVuY2g6YmVuY2gtcGFzc3dvcmQ="  # bench:bench-password
SYNC_PATH = "/api/webhook:trigger/bench-sync-order-key-000000001?source=bench"
ASYNC_PATH = "/api/webhook:trigger/bench-async-order-key-00000001?source=bench"
TOKEN = "bench-admin-token"
SECRET = "bench-secret-key-0123456789abcdef0123456789abcdef"
PAUSE_MS = 10  # scenario 5: mean pause before a connection's next request
UVICORN = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]


@dataclass
class Measure:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Row:
    scenario: str
    rps: float
    p50_ms: float
    p99_ms: float
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def need_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        sys.exit("bench needs wrk: apt-get install wrk (Debian), then run make bench again")
    return path


def lua(path: Path, body: str, headers: dict[str, str]) -> Path:
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body)}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, script: Path, connections: int, seconds: int) -> Measure:
    out = subprocess.run(
        [
            need_wrk(),
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\n\s+50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\n\s+99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    count = int(errors.group(1)) if errors else 0
    if socket_errors and "timeout" in socket_errors.group(1):
        count += int(re.search(r"timeout (\d+)", socket_errors.group(1)).group(1))  # type: ignore[union-attr]
    return Measure(rps, p50, p99, count)


class Process:
    def __init__(self, args: list[str], env: dict[str, str], port: int, cwd: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = (cwd / f"proc-{port}.log").open("w")
        self.proc = subprocess.Popen(
            args, env={**os.environ, **env}, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_http(self, path: str = "/healthz", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"process exited: see {self.log.name}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.1)
        raise RuntimeError(f"process did not listen on {self.port}")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@contextlib.contextmanager
def running(
    args: list[str], env: dict[str, str], port: int, cwd: Path, http: bool = True
) -> Iterator[Process]:
    process = Process(args, env, port, cwd)
    try:
        if http:
            process.wait_http()
        yield process
    finally:
        process.stop()


@dataclass
class Scaled:
    """A running server and worker on PostgreSQL + Redis (`Scenarios.scaled`)."""

    gateway: Process
    worker: Process
    database: str
    env: dict[str, str] = field(default_factory=dict)

    def unfinished(self) -> int:
        return int(
            pg(
                "SELECT COUNT(*) FROM executions WHERE status IN ('QUEUED', 'STARTED')",
                self.database,
            )
        )

    def executions(self) -> int:
        return int(pg("SELECT COUNT(*) FROM executions", self.database))


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.body = lua(
            work / "post.lua",
            PAYLOAD,
            {"content-type": "application/json", "authorization": AUTH, "x-request-id": "bench"},
        )

    def gateway_env(self, database_url: str, **extra: str) -> dict[str, str]:
        return {
            "GATEWAY_DATABASE_URL": database_url,
            "GATEWAY_SECRET_KEY": SECRET,
            "GATEWAY_ADMIN_TOKENS": TOKEN,
            "GATEWAY_LOG_LEVEL": "warning",
            "GATEWAY_CONFIG": "/nonexistent",
            **extra,
        }

    def cli(self, env: dict[str, str], *args: str) -> None:
        subprocess.run(
            [str(BIN / "gateway"), *args],
            env={**os.environ, **env},
            cwd=self.work,
            check=True,
            capture_output=True,
        )

    def sqlite_db(self, name: str) -> str:
        url = f"sqlite://{self.work / name}"
        env = self.gateway_env(url)
        self.cli(env, "migrate")
        self.cli(env, "apply", str(HERE / "workflows"))
        return url

    def bare(self) -> contextlib.AbstractContextManager[Process]:
        port = free_port()
        args = [str(BIN / "uvicorn"), "bench.bare:app", "--port", str(port), *UVICORN]
        return running(args, {"PYTHONPATH": str(ROOT)}, port, ROOT)

    def gateway(self, env: dict[str, str]) -> contextlib.AbstractContextManager[Process]:
        port = free_port()
        return running([str(BIN / "gateway"), "serve", "--port", str(port)], env, port, self.work)

    def ab(
        self, gateway: Process, path: str, connections: int | None = None
    ) -> tuple[Measure, float, list[Measure]]:
        """Alternate bare and gateway runs; the gateway's median run and the median ratio."""
        c = connections or self.args.connections
        pairs = []
        with self.bare() as bare:
            wrk(bare.url + "/hook", self.body, c, 2)  # warm both up
            wrk(gateway.url + path, self.body, c, 2)
            for _ in range(self.args.rounds):
                reference = wrk(bare.url + "/hook", self.body, c, self.args.duration)
                measured = wrk(gateway.url + path, self.body, c, self.args.duration)
                pairs.append((measured, reference))
        ratio = statistics.median(m.rps / r.rps for m, r in pairs)
        runs = sorted((m for m, _ in pairs), key=lambda m: m.rps)
        return runs[len(runs) // 2], ratio, [r for _, r in pairs]


def bare_rps(references: list[Measure]) -> int:
    """The bare endpoint's median req/s in a scenario's pairs: what its ratio is against."""
    return round(statistics.median(r.rps for r in references))


def executions_sqlite(url: str, where: str = "") -> int:
    """How many executions the SQLite database holds (`where`: those that match)."""
    with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
        query = "SELECT COUNT(*) FROM executions" + (f" WHERE {where}" if where else "")
        return int(conn.execute(query).fetchone()[0])


def unfinished_sqlite(url: str) -> int:
    return executions_sqlite(url, "status IN ('QUEUED', 'STARTED')")


POLL_S = 0.5  # the drain check's interval (see wait_finished)


def wait_finished(count, limit: float = 10.0, poll: float = POLL_S) -> tuple[bool, float]:  # type: ignore[no-untyped-def]
    """Whether nothing is left unfinished within `limit` seconds, and when that was seen.
    Checked every POLL_S by default, not more often: on PostgreSQL the count reads the
    status index, which keeps an entry for every earlier version of each row until a
    vacuum, so on a grown table each count takes database time from the worker measured."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if count() == 0:
            return True, time.monotonic() - started
        time.sleep(poll)
    return count() == 0, time.monotonic() - started


def postgres_admin() -> str:
    return os.environ.get("GATEWAY_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")


def pg(statement: str, database: str | None = None) -> Any:
    import asyncpg

    async def run() -> Any:
        url = (
            postgres_admin()
            if database is None
            else postgres_admin().rsplit("/", 1)[0] + "/" + database
        )
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(statement)
        finally:
            await conn.close()

    return asyncio.run(run())


class Scenarios(Bench):
    def s1_sync(self) -> Row:
        url = self.sqlite_db("sync.db")
        with self.gateway(self.gateway_env(url)) as gw:
            m, ratio, bare = self.ab(gw, SYNC_PATH)
        self.sync_rps = m.rps
        self.sync_ratio = ratio
        return Row(
            "1 sync: auth, 5 rules, condition, response",
            m.rps,
            m.p50_ms,
            m.p99_ms,
            ratio,
            ">= 0.30",
            ratio >= 0.30 and m.errors == 0,
            {"errors": m.errors, "bare_rps": bare_rps(bare)},
        )

    def _sustained(
        self, gw: Process, unfinished: Any, path: str = ASYNC_PATH, script: Path | None = None
    ) -> tuple[Measure, float, float, list[Measure]]:
        """A/B where every gateway run must be fully executed within 10 s of its end."""
        c = self.args.connections
        pairs, drains = [], []
        with self.bare() as bare:
            wrk(bare.url + "/hook", self.body, c, 2)
            for _ in range(self.args.rounds):
                reference = wrk(bare.url + "/hook", self.body, c, self.args.duration)
                measured = wrk(gw.url + path, script or self.body, c, self.args.duration)
                done, seconds = wait_finished(unfinished, 10.0)
                drains.append(seconds if done else float("inf"))
                pairs.append((measured, reference))
        ratio = statistics.median(m.rps / r.rps for m, r in pairs)
        runs = sorted((m for m, _ in pairs), key=lambda m: m.rps)
        return runs[len(runs) // 2], ratio, max(drains), [r for _, r in pairs]

    def s2_async_embedded(self) -> Row:
        url = self.sqlite_db("async.db")
        with self.gateway(self.gateway_env(url)) as gw:
            m, ratio, drain, bare = self._sustained(gw, lambda: unfinished_sqlite(url))
        self.async_ratio = ratio
        stored = history.sqlite_bytes_per_execution(Path(url.removeprefix("sqlite://")))
        met = ratio >= 0.25 and drain <= 10 and m.errors == 0
        return Row(
            "2 async, embedded executor (SQLite)",
            m.rps,
            m.p50_ms,
            m.p99_ms,
            ratio,
            ">= 0.25, all run within 10 s",
            met,
            {
                "drain_s": round(drain, 2) if drain != float("inf") else "over 10",
                "errors": m.errors,
                "bare_rps": bare_rps(bare),
                "stored_bytes_per_execution": stored,
            },
        )

    @contextlib.contextmanager
    def scaled(self) -> Iterator[Scaled]:
        """Scenario 3's setup: one server and one worker on a fresh PostgreSQL database and
        a Redis queue of their own; the database is dropped afterwards."""
        name = f"bench_{uuid.uuid4().hex[:8]}"
        pg(f'CREATE DATABASE "{name}"')
        url = postgres_admin().rsplit("/", 1)[0] + "/" + name
        redis = os.environ.get("GATEWAY_BENCH_REDIS", "redis://127.0.0.1:6379/0")
        env = self.gateway_env(url, GATEWAY_REDIS_URL=redis, GATEWAY_REDIS_QUEUE=f"bench:{name}")
        self.cli(env, "migrate")
        self.cli(env, "apply", str(HERE / "workflows"))
        try:
            worker_port = free_port()
            worker = [str(BIN / "gateway"), "worker"]
            with (
                self.gateway(env) as gw,
                running(worker, env, worker_port, self.work, http=False) as wk,
            ):
                yield Scaled(gw, wk, name, env)
        finally:
            pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def s3_async_scaled(self) -> Row:
        with self.scaled() as s:
            m, ratio, drain, bare = self._sustained(s.gateway, s.unfinished)
            stored = history.postgres_bytes_per_execution(pg, s.database)
        self.scaled_ratio = ratio
        met = ratio >= 0.20 and drain <= 10 and m.errors == 0
        return Row(
            "3 async, PostgreSQL + Redis, 1 server + 1 worker",
            m.rps,
            m.p50_ms,
            m.p99_ms,
            ratio,
            ">= 0.20, all run within 10 s",
            met,
            {
                "drain_s": round(drain, 2) if drain != float("inf") else "over 10",
                "errors": m.errors,
                "bare_rps": bare_rps(bare),
                "stored_bytes_per_execution": stored,
            },
        )

    def s4_many_workflows(self) -> Row:
        url = self.sqlite_db("many.db")
        subprocess.run(
            [sys.executable, str(HERE / "many.py"), url, "10000"],
            check=True,
            env={**os.environ, **self.gateway_env(url)},
            cwd=self.work,
        )
        with self.gateway(self.gateway_env(url)) as gw:
            m, ratio, bare = self.ab(gw, SYNC_PATH)
            self.many = gw.url
            loaded = asyncio.run(touch_all(gw.url, url))
            wrk(gw.url + SYNC_PATH, self.body, self.args.connections, 5)
            rss = gw.rss_mb()
            latency = self.graphql_latency(gw.url)
        target = 0.95 * self.sync_ratio
        self.rss, self.loaded, self.graphql = rss, loaded, latency
        return Row(
            "4 sync with 10,000 other workflows stored",
            m.rps,
            m.p50_ms,
            m.p99_ms,
            ratio,
            f">= 0.95 x (1) = {target:.2f}",
            ratio >= target and m.errors == 0,
            {"errors": m.errors, "bare_rps": bare_rps(bare)},
        )

    def s5_latency(self) -> Row:
        """Paced load (wrk2-style): each connection waits a random pause (mean PAUSE_MS)
        before its next request, so arrivals are spread, not bursts; the connection count
        is set so the rate lands at half of (1)'s maximum, then corrected once."""
        url = self.sqlite_db("latency.db")
        half = self.sync_rps / 2
        paced = self.paced_script()
        with self.gateway(self.gateway_env(url)) as gw:
            connections = max(1, round(half * PAUSE_MS / 1000))
            probe = wrk(gw.url + SYNC_PATH, paced, connections, 3)
            connections = max(1, round(connections * half / max(probe.rps, 1)))
            m = wrk(gw.url + SYNC_PATH, paced, connections, self.args.duration)
        self.paced_connections, self.paced_p99 = connections, m.p99_ms
        return Row(
            "5 p99 of (1) at about half its maximum rate",
            m.rps,
            m.p50_ms,
            m.p99_ms,
            None,
            "p99 <= 10 ms",
            m.p99_ms <= 10 and m.errors == 0,
            {
                "connections": connections,
                "mean_pause_ms": PAUSE_MS,
                "target_rps": round(half),
                "rate_vs_max": round(m.rps / self.sync_rps, 2),
            },
        )

    def paced_script(self) -> Path:
        script = self.work / "paced.lua"
        pause = f"function delay()\n  return math.random(0, {2 * PAUSE_MS})\nend\n"
        script.write_text(self.body.read_text() + pause)
        return script

    def s6_memory(self) -> Row:
        return Row(
            "6 server RSS after loading 10,000 workflows and serving (1)",
            0,
            0,
            0,
            None,
            "<= 250 MB",
            self.rss <= 250,
            {"rss_mb": round(self.rss, 1), "workflows_loaded": self.loaded},
        )

    def s7_graphql(self) -> Row:
        m, cached = self.graphql
        return Row(
            "7 GraphQL: 100 workflows with trigger, rules, nodes",
            m.rps,
            m.p50_ms,
            m.p99_ms,
            None,
            "p50 <= 20 ms",
            m.p50_ms <= 20 and m.errors == 0,
            {"errors": m.errors, "cached_p50_ms": cached.p50_ms, "cached_rps": round(cached.rps)},
        )

    def graphql_latency(self, base: str) -> tuple[Measure, Measure]:
        """Uncached: every request's body differs (an `extensions` counter, after a token of
        this call's own so that a second call repeats no body), so the answer cache never
        hits, while the parsed query is reused as a real editor's would be.
        Cached: the same request over and over, as an editor polling a list."""
        query = (HERE / "workflows.graphql").read_text()
        headers = {"content-type": "application/json", "authorization": f"Bearer {TOKEN}"}
        cached = lua(self.work / "graphql.lua", json.dumps({"query": query}), headers)
        uncached = self.work / "graphql-uncached.lua"
        run = uuid.uuid4().hex
        head = f'{{"query":{json.dumps(query)},"extensions":{{"run":"{run}","n":'
        uncached.write_text(
            cached.read_text()
            + f"local head = {json.dumps(head)}\n"
            + "local n = 0\n"
            + "request = function()\n"
            + "  n = n + 1\n"
            + "  local body = head .. n .. '}}'\n"
            + "  return wrk.format(nil, nil, nil, body)\n"
            + "end\n"
        )
        url = base + "/graphql"
        return wrk(url, uncached, 1, self.args.duration), wrk(url, cached, 1, self.args.duration)


class AtScale(Scenarios):
    """Scenarios 8, 9 and 11: the same loads on a database that already holds an execution
    history (`--history` executions, `bench/history.py`)."""

    def s8_history(self) -> Row:
        url = self.sqlite_db("history.db")
        path = Path(url.removeprefix("sqlite://"))
        subprocess.run(
            [sys.executable, str(HERE / "many.py"), url, str(history.WORKFLOWS - 2)],
            check=True,
            env={**os.environ, **self.gateway_env(url)},
            cwd=self.work,
        )
        with self.gateway(self.gateway_env(url)) as gw:
            template = asyncio.run(one_execution(gw.url))
            if not wait_finished(lambda: unfinished_sqlite(url))[0]:
                raise RuntimeError("the template execution did not finish")
        seconds = history.seed(path, template, self.args.history)
        self.history_path = path
        with self.gateway(self.gateway_env(url)) as gw:
            since = history.stored_now()
            m, ratio, drain, bare = self._sustained(
                gw, lambda: history.unfinished_since(path, since)
            )
            self.history_graphql = self.executions_latency(gw.url, path)
        target = 0.95 * self.async_ratio
        return Row(
            f"8 (2) with {self.args.history:,} executions stored",
            m.rps,
            m.p50_ms,
            m.p99_ms,
            ratio,
            f">= 0.95 x (2) = {target:.2f}",
            ratio >= target and drain <= 10 and m.errors == 0,
            {
                "drain_s": round(drain, 2) if drain != float("inf") else "over 10",
                "errors": m.errors,
                "bare_rps": bare_rps(bare),
                "seed_s": round(seconds, 1),
            },
        )

    def s9_executions_list(self) -> Row:
        first, deep, count, count_all = self.history_graphql
        met = all(q.errors == 0 for q in self.history_graphql)
        met = met and first.p50_ms <= 20 and deep.p50_ms <= 20 and count.p50_ms <= 50
        return Row(
            f"9 GraphQL executions list, {self.args.history:,} stored",
            first.rps,
            first.p50_ms,
            first.p99_ms,
            None,
            "p50 <= 20 ms (first, deep), count <= 50 ms",
            met,
            {
                "deep_p50_ms": deep.p50_ms,
                "deep_p99_ms": deep.p99_ms,
                "count_p50_ms": count.p50_ms,
                "count_all_p50_ms": count_all.p50_ms,
            },
        )

    def executions_latency(self, base: str, path: Path) -> tuple[Measure, ...]:
        """Scenario 9, one connection each: the first page of a workflow's FAILED executions,
        the page 200 pages deep into all executions (by cursor), the total count of the
        first and that of all executions."""
        workflow, cursor = history.list_arguments(path, DEEP_PAGES * PAGE)
        page = (
            "edges { cursor node { id status createdAt finishedAt } } "
            "pageInfo { hasNextPage endCursor }"
        )
        queries = {
            "first": (
                f"query($w: ID!) {{ executions(workflowId: $w, status: FAILED, first: {PAGE}) "
                f"{{ {page} }} }}",
                {"w": str(workflow)},
            ),
            "deep": (
                f"query($a: String!) {{ executions(first: {PAGE}, after: $a) {{ {page} }} }}",
                {"a": cursor},
            ),
            "count": (
                "query($w: ID!) { executions(workflowId: $w, status: FAILED, first: 0) "
                "{ totalCount } }",
                {"w": str(workflow)},
            ),
            "count_all": ("{ executions(first: 0) { totalCount } }", {}),
        }
        out = []
        for name, (query, variables) in queries.items():
            check_graphql(base, query, variables, name in ("first", "deep"))
            script = self.uncached_script(f"{name}.lua", query, variables)
            out.append(wrk(base + "/graphql", script, 1, self.args.duration))
        return tuple(out)

    def uncached_script(self, name: str, query: str, variables: dict[str, str]) -> Path:
        """A wrk script whose every request body differs (an `extensions` counter), so no
        answer cache can hit."""
        headers = {"content-type": "application/json", "authorization": f"Bearer {TOKEN}"}
        script = lua(self.work / name, "", headers)
        run = uuid.uuid4().hex
        body = {"query": query, "variables": variables}
        head = json.dumps(body)[:-1] + f', "extensions": {{"run": "{run}", "n": '
        script.write_text(
            script.read_text()
            + f"local head = {json.dumps(head)}\n"
            + "local n = 0\n"
            + "request = function()\n"
            + "  n = n + 1\n"
            + "  return wrk.format(nil, nil, nil, head .. n .. '}}')\n"
            + "end\n"
        )
        return script

    def s11_retention(self) -> Row:
        """Scenario 5's paced load on the history, first without pruning (the reference),
        then while the server prunes the expired history: wrk runs of `--duration` one
        after another until nothing expired is left (at most PRUNE_RUNS)."""
        url = f"sqlite://{self.history_path}"
        before = history.stored_now(-history.NEWEST_AGE_S / 2)
        expired = history.expired_left(self.history_path, before)
        paced, runs = self.paced_script(), list[Measure]()
        idle = self.gateway_env(url, GATEWAY_PRUNE_INTERVAL="86400")
        with self.gateway(idle) as gw:
            reference = wrk(gw.url + SYNC_PATH, paced, self.paced_connections, self.args.duration)
        env = self.gateway_env(url, GATEWAY_EXECUTION_MAX_AGE="30m", GATEWAY_PRUNE_INTERVAL="1")
        with self.gateway(env) as gw, PruneWatch(self.history_path, before, expired) as watch:
            while watch.left and len(runs) < PRUNE_RUNS:
                runs.append(
                    wrk(gw.url + SYNC_PATH, paced, self.paced_connections, self.args.duration)
                )
                if watch.stalled():
                    break  # no progress during a whole run: reported as missed below
        left = watch.left
        worst = max(runs, key=lambda m: m.p99_ms) if runs else Measure(0, 0, 0, 0)
        bar = 2 * reference.p99_ms
        return Row(
            "11 (5) while pruning the expired history",
            worst.rps,
            worst.p50_ms,
            worst.p99_ms,
            None,
            f"p99 <= 2 x without pruning = {bar:.2f} ms",
            worst.p99_ms <= bar and left == 0 and all(m.errors == 0 for m in runs),
            {
                "p99_without_pruning_ms": reference.p99_ms,
                "p99_of_5_ms": self.paced_p99,
                "expired": expired,
                "left": left,
                "prune_per_s": watch.rate(),
                "wrk_runs": len(runs),
                "median_run_p99_ms": statistics.median(m.p99_ms for m in runs) if runs else None,
                "runs_over_bar": sum(m.p99_ms > bar for m in runs),
            },
        )


class Later(AtScale):
    """Scenarios 10 and 12: scenario 2's load with live subscribers, and with a `request`
    node whose downstream fails a fifth of first tries."""

    def s10_subscriptions(self) -> Row:
        url = self.sqlite_db("live.db")
        path = Path(url.removeprefix("sqlite://"))
        env = self.gateway_env(url)
        self.cli(env, "apply", str(live.workflows(self.work)))
        script = live.rotating_script(self.work / "live.lua", self.body)
        out = self.work / "subscribers.json"
        with self.gateway(env) as gw:
            with live.subscribed(gw.url, TOKEN, live.workflow_ids(path), out):
                m, ratio, drain, bare = self._sustained(
                    gw, lambda: unfinished_sqlite(url), "/", script
                )
                time.sleep(DELIVERY_WAIT_S)  # what is still on its way after the drain
        tally = live.tally(json.loads(out.read_text()), live.finished_by_workflow(path))
        target = 0.90 * self.async_ratio
        p99 = tally["delivery_p99_ms"]
        met = ratio >= target and drain <= 10 and m.errors == 0 and tally["missing"] == 0
        return Row(
            f"10 (2) with {live.SUBSCRIBERS} subscribers over {live.WORKFLOWS} workflows",
            m.rps,
            m.p50_ms,
            m.p99_ms,
            ratio,
            f">= 0.90 x (2) = {target:.2f}, none missed, delivery p99 <= 1 s",
            met and p99 is not None and p99 <= 1000 and not tally["errors"],
            {
                "drain_s": round(drain, 2) if drain != float("inf") else "over 10",
                "errors": m.errors,
                "bare_rps": bare_rps(bare),
                **tally,
            },
        )

    def s10_scaled(self) -> Row:
        """Scenario 10 on PostgreSQL + Redis: subscribers on one server, calls on another."""
        with self.scaled() as s:
            self.cli(s.env, "apply", str(live.workflows(self.work)))
            script = live.rotating_script(self.work / "live.lua", self.body)
            out = self.work / "subscribers-scaled.json"
            ids = [str(i) for i in pg_column(live.WORKFLOW_IDS, s.database)]
            with self.gateway(s.env) as calls, live.subscribed(s.gateway.url, TOKEN, ids, out):
                m, ratio, drain, bare = self._sustained(calls, s.unfinished, "/", script)
                time.sleep(DELIVERY_WAIT_S)
            rows = pg_rows(live.FINISHED_ROWS, s.database)
        tally = live.tally(json.loads(out.read_text()), live.by_workflow(rows))
        target = 0.90 * self.scaled_ratio
        p99 = tally["delivery_p99_ms"]
        met = ratio >= target and drain <= 10 and m.errors == 0 and tally["missing"] == 0
        return Row(
            f"10b (3) with {live.SUBSCRIBERS} subscribers on another server",
            m.rps,
            m.p50_ms,
            m.p99_ms,
            ratio,
            f">= 0.90 x (3) = {target:.2f}, none missed, delivery p99 <= 1 s",
            met and p99 is not None and p99 <= 1000 and not tally["errors"],
            {
                "drain_s": round(drain, 2) if drain != float("inf") else "over 10",
                "errors": m.errors,
                "bare_rps": bare_rps(bare),
                **tally,
            },
        )

    def s12_retries(self) -> Row:
        url = self.sqlite_db("retries.db")
        port = free_port()
        args = [str(BIN / "uvicorn"), "bench.flaky:app", "--port", str(port), *UVICORN]
        with running([*args, "--lifespan", "off"], {"PYTHONPATH": str(ROOT)}, port, ROOT) as down:
            env = self.gateway_env(url, GATEWAY_OUTBOUND_ALLOW="127.0.0.0/8")
            (self.work / "request.yaml").write_text(request_workflows(port))
            self.cli(env, "apply", str(self.work / "request.yaml"))
            with self.gateway(env) as gw:
                plain, flaky = self._completed(gw, url, [REQUEST_OK, REQUEST_FLAKY])
            tries = httpx_json(down.url + "/stats")
        ratio = statistics.median(f.rps / p.rps for p, f in zip(plain, flaky, strict=True))
        unresolved = not_resolved_sqlite(url)
        m = sorted(flaky, key=lambda x: x.rps)[len(flaky) // 2]
        drains = [x.drain_s for x in plain + flaky if x.drain_s is not None]
        drained = len(drains) == len(plain + flaky)
        met = ratio >= 0.80 and unresolved == 0 and drained
        met = met and all(x.measure.errors == 0 for x in plain + flaky)
        return Row(
            "12 (2) with a request node, a fifth of first tries failing",
            m.rps,
            m.measure.p50_ms,
            m.measure.p99_ms,
            ratio,
            ">= 0.80 x without failures, all resolved",
            met,
            {
                "without_failures_rps": round(statistics.median(x.rps for x in plain)),
                "accepted_rps": round(m.measure.rps),
                "not_resolved": unresolved,
                "first_tries_failed": tries["failed"],
                "share_failed": round(
                    tries["failed"] / max(tries["flaky"] - tries["failed"], 1), 3
                ),
                "drain_s": max(drains) if drained else f"over {COMPLETION_LIMIT_S:.0f}",
            },
        )

    def _completed(self, gw: Process, url: str, paths: list[str]) -> list[list[Completed]]:
        """Each round runs `paths` one after another (every other round in reverse): a wrk
        run, then the wait until all its executions are finished. What counts is how fast
        executions complete (per second from the run's start to the last one finished), not
        how fast calls are accepted: an async call is answered at once, so when a workflow's
        executions are slower than intake, the accepted rate says nothing about them."""
        c = self.args.connections
        runs: list[list[Completed]] = [[] for _ in paths]
        for path in paths:  # warm each up
            wrk(gw.url + path, self.body, c, 2)
            wait_finished(lambda: unfinished_sqlite(url), COMPLETION_LIMIT_S)
        for turn in range(self.args.rounds):
            order = list(enumerate(paths))
            for n, path in order[::-1] if turn % 2 else order:  # neither always runs second
                before = executions_sqlite(url)
                started = time.monotonic()
                measure = wrk(gw.url + path, self.body, c, self.args.duration)
                done, seconds = wait_finished(
                    lambda: unfinished_sqlite(url), COMPLETION_LIMIT_S, COMPLETION_POLL_S
                )
                count = executions_sqlite(url) - before
                rate = count / (time.monotonic() - started)
                runs[n].append(Completed(rate, measure, round(seconds, 2) if done else None))
        return runs


@dataclass
class Completed:
    """Scenario 12's run: executions finished per second, the wrk run that made them, and
    how long after the run the last one finished (None: not within the limit)."""

    rps: float
    measure: Measure
    drain_s: float | None


COMPLETION_LIMIT_S = 120.0  # scenario 12: a run's executions must all finish within this
COMPLETION_POLL_S = 0.1  # ... checked this often (a count on SQLite's status index is cheap)


PRUNE_RUNS = 200  # scenario 11: 1,000,000 executions at about 1,000/s take ~100 runs of 10 s
DELIVERY_WAIT_S = 10  # scenario 10: after the drain, for what is late (not missing)
REQUEST_KEYS = {"ok": "bench-request-ok-key-000000001", "flaky": "bench-request-flaky-key-000001"}
REQUEST_OK, REQUEST_FLAKY = (
    f"/api/webhook:trigger/{key}?source=bench" for key in REQUEST_KEYS.values()
)


def request_workflows(port: int) -> str:
    """Scenario 12's two workflows: the async bench workflow's trigger, then one `request`
    node to `bench/flaky.py` (`/ok` never fails, `/flaky` fails a fifth of first tries),
    retried once after 50 ms."""
    trigger = (HERE / "workflows" / "async-order.yaml").read_text().split("nodes:")[0]
    docs = []
    for name, key in REQUEST_KEYS.items():
        docs.append(
            trigger.replace("key: bench-async\n", f"key: bench-request-{name}\n")
            .replace("title: Bench async order", f"title: Bench request {name}")
            .replace("bench-async-order-key-00000001", key)
            + "nodes:\n"
            + "  - key: notify\n"
            + "    type: request\n"
            + "    config:\n"
            + "      method: POST\n"
            + f'      url: "http://127.0.0.1:{port}/{name}"\n'
            + '      data: {orderId: "{{$context.body.orderId}}"}\n'
            + "      retry: {attempts: 2, initialInterval: 50, jitter: false}\n"
        )
    return "\n---\n".join(docs)


def pg_rows(statement: str, database: str) -> list[tuple[Any, ...]]:
    import asyncpg

    async def run() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(postgres_admin().rsplit("/", 1)[0] + "/" + database)
        try:
            return [tuple(row) for row in await conn.fetch(statement)]
        finally:
            await conn.close()

    return asyncio.run(run())


def pg_column(statement: str, database: str) -> list[Any]:
    return [row[0] for row in pg_rows(statement, database)]


def httpx_json(url: str) -> Any:
    import httpx

    return httpx.get(url, timeout=30).json()


def not_resolved_sqlite(url: str) -> int:
    return executions_sqlite(url, "status != 'RESOLVED'")


class PruneWatch:
    """Counts what is left to prune of the history every POLL_S in a thread of its own,
    from the last count that found it all to the first that found none."""

    def __init__(self, path: Path, before: str, expired: int) -> None:
        self.path, self.before, self.expired = path, before, expired
        self.left, self._seen = expired, expired
        self.began = self.ended = time.monotonic()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> PruneWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._done.wait(POLL_S) and self.left:
            now, self.left = time.monotonic(), history.expired_left(self.path, self.before)
            if self.left == self.expired:
                self.began = now
            self.ended = now

    def stalled(self) -> bool:
        """Whether nothing was pruned since the last call."""
        stalled, self._seen = self.left == self._seen, self.left
        return stalled

    def rate(self) -> int:
        """Executions pruned per second."""
        return round((self.expired - self.left) / max(self.ended - self.began, POLL_S))


DEEP_PAGES = 200  # scenario 9's deep page
PAGE = 50


async def one_execution(base: str) -> str:
    """One async call with the bench payload; the id of the execution it started."""
    import httpx

    headers = {"content-type": "application/json", "authorization": AUTH, "x-request-id": "bench"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        answer = await client.post(ASYNC_PATH, content=PAYLOAD, headers=headers)
    answer.raise_for_status()
    return answer.headers["x-execution-id"]


def check_graphql(base: str, query: str, variables: dict[str, str], edges: bool) -> None:
    """That a measured query answers without an error (and with edges if `edges`)."""
    import httpx

    answer = httpx.post(
        base + "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {TOKEN}"},
        timeout=60,
    ).json()
    if "errors" in answer or (edges and not answer["data"]["executions"]["edges"]):
        raise RuntimeError(f"unexpected answer to {query}: {str(answer)[:300]}")


async def touch_all(base: str, database_url: str) -> int:
    """One call to every workflow, so the server compiles and caches all of them."""
    import httpx

    with sqlite3.connect(database_url.removeprefix("sqlite://")) as conn:
        keys = [row[0] for row in conn.execute("SELECT key FROM triggers")]
    gate = asyncio.Semaphore(32)

    async def one(client: httpx.AsyncClient, key: str) -> None:
        async with gate:
            await client.post(f"/api/webhook:trigger/{key}", json={"n": 1})

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(*(one(client, key) for key in keys))
    return len(keys)


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def table(rows: list[Row]) -> str:
    lines = [
        f"{'scenario':<58} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6}  target",
        "-" * 118,
    ]
    for r in rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        mark = {True: "met", False: "MISSED", None: ""}[r.met]
        lines.append(
            f"{r.scenario:<58} {r.rps:>8.0f} {r.p50_ms:>7.2f} {r.p99_ms:>7.2f} {ratio:>6}  "
            f"{r.target} {mark}  {json.dumps(r.notes) if r.notes else ''}"
        )
    return "\n".join(lines)


ORDER = (
    "s1_sync",
    "s2_async_embedded",
    "s3_async_scaled",
    "s4_many_workflows",
    "s5_latency",
    "s6_memory",
    "s7_graphql",
    "s8_history",
    "s9_executions_list",
    "s10_subscriptions",
    "s11_retention",
    "s12_retries",
    "s10_scaled",
)
# Later scenarios reuse earlier measurements.
NEEDS = {4: {1}, 5: {1}, 6: {4}, 7: {4}, 8: {2}, 9: {8}, 10: {2}, 11: {5, 8}, 13: {3}}


def selected(only: str) -> list[int]:
    """The scenarios asked for, with those they build on."""
    every = {n for n, name in enumerate(ORDER, 1) if name is not None}
    wanted = {int(n) for n in only.split(",") if n} & every or every
    while True:
        grown = wanted | {d for n in wanted for d in NEEDS.get(n, set())}
        if grown == wanted:
            return sorted(wanted)
        wanted = grown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="A/B pairs per scenario")
    parser.add_argument("--only", default="", help="comma-separated scenario numbers, e.g. 1,2")
    parser.add_argument(
        "--history",
        type=int,
        default=1_000_000,
        help="executions stored for scenarios 8, 9 and 11 (fewer for a quick run)",
    )
    args = parser.parse_args()
    need_wrk()
    rows = []
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as work:
        bench = Later(args, Path(work))
        for number in selected(args.only):
            print(f"running scenario {number} ...", file=sys.stderr, flush=True)
            rows.append(getattr(bench, str(ORDER[number - 1]))())
    report = {
        "machine": machine(),
        "settings": vars(args),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": [asdict(r) for r in rows],
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(rows))
    return 0 if all(r.met is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
