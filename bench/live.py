"""Scenario 10's setup and tally: 10 copies of the async bench workflow, a wrk script that
calls them in turn, 100 subscribers to their execution updates (`bench/subscribers.py`, a
process of its own), and what the subscribers received against what the database holds."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKFLOWS = 10
SUBSCRIBERS = 100
FINISHED = ("RESOLVED", "FAILED", "ERROR", "REJECTED", "ABORTED", "CANCELED")


def trigger_key(n: int) -> str:
    return f"bench-live-order-key-{n:09d}"


def workflows(work: Path) -> Path:
    """The async bench workflow `WORKFLOWS` times over (keys bench-live-N), as one file."""
    original = (HERE / "workflows" / "async-order.yaml").read_text()
    copies = [
        original.replace("key: bench-async\n", f"key: bench-live-{n}\n")
        .replace("title: Bench async order", f"title: Bench live order {n}")
        .replace("bench-async-order-key-00000001", trigger_key(n))
        for n in range(WORKFLOWS)
    ]
    path = work / "live.yaml"
    path.write_text("\n---\n".join(copies))
    return path


def rotating_script(path: Path, body: Path) -> Path:
    """A wrk script with `body`'s method, payload and headers whose requests go to the
    copies' triggers in turn."""
    paths = [f"/api/webhook:trigger/{trigger_key(n)}?source=bench" for n in range(WORKFLOWS)]
    path.write_text(
        body.read_text()
        + f"local paths = {{{', '.join(json.dumps(p) for p in paths)}}}\n"
        + "local n = 0\n"
        + "request = function()\n"
        + "  n = n + 1\n"
        + "  return wrk.format(nil, paths[n % #paths + 1])\n"
        + "end\n"
    )
    return path


def workflow_ids(database: Path) -> list[str]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute(WORKFLOW_IDS).fetchall()
    return [str(row[0]) for row in rows]


def open_subscriptions(base: str) -> int:
    """The server's own count of open subscriptions (its /metrics)."""
    import httpx

    for line in httpx.get(base + "/metrics", timeout=30).text.splitlines():
        if line.startswith("gateway_subscriptions "):
            return int(float(line.split()[1]))
    return 0


@contextlib.contextmanager
def subscribed(base: str, token: str, ids: list[str], out: Path) -> Iterator[None]:
    """`SUBSCRIBERS` subscriptions spread over `ids`, open (as the server counts them)
    for the block; their report is in `out` afterwards."""
    url = base.replace("http://", "ws://") + "/graphql"
    args = [sys.executable, str(HERE / "subscribers.py"), url, token, str(SUBSCRIBERS)]
    process = subprocess.Popen([*args, str(out), *ids])
    try:
        deadline = time.monotonic() + 60
        while open_subscriptions(base) < SUBSCRIBERS:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the subscribers did not all subscribe")
            time.sleep(0.1)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


WORKFLOW_IDS = "SELECT id FROM workflows WHERE key LIKE 'bench-live-%' ORDER BY key"
FINISHED_ROWS = (
    "SELECT workflow_id, id FROM executions WHERE status IN ("
    + ", ".join(f"'{status}'" for status in FINISHED)
    + ")"
)


def finished_by_workflow(database: Path) -> dict[str, set[str]]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute(FINISHED_ROWS).fetchall()
    return by_workflow(rows)


def by_workflow(rows: list[Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for workflow, execution in rows:
        out.setdefault(str(workflow), set()).add(str(execution))
    return out


def tally(report: dict[str, Any], expected: dict[str, set[str]]) -> dict[str, Any]:
    """What the subscribers missed (finished executions of their workflow they never saw
    finished) and the delay from an execution's finish to its receipt, over every delivery."""
    missing = 0
    delays: list[float] = []
    for subscriber in report["subscribers"]:
        seen = subscriber["finished"]
        missing += len(expected.get(subscriber["workflow"], set()) - seen.keys())
        delays.extend(seen.values())
    delays.sort()
    at = (lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]) if delays else None
    return {
        "deliveries": len(delays),
        "missing": missing,
        "delivery_p50_ms": round(at(0.5) * 1000, 1) if at else None,
        "delivery_p99_ms": round(at(0.99) * 1000, 1) if at else None,
        "errors": report["errors"][:3],
    }
