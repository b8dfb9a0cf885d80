"""What the store's PostgreSQL shortcut saves: accepted executions written through the
group-committed writer with `GATEWAY_SHORTCUTS` on and off, in the same run
(`python bench/writer.py [--rounds N] [--seconds S] [--callers C]`).

`C` callers each write one new QUEUED execution after another (an async accept's write) for
`S` seconds, on a fresh PostgreSQL database (`GATEWAY_BENCH_POSTGRES`, as `bench/run.py`);
a round runs the shortcuts on, then off, the order swapped every round. Prints the writes
per second of each and the median on/off ratio, with its range.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.core import shortcuts
from gateway.core.clock import utcnow
from gateway.core.ids import new_id
from gateway.core.settings import Settings
from gateway.core.statuses import ExecutionStatus
from gateway.store.db import close_store, open_store
from gateway.store.models import WorkflowVersion
from gateway.store.operations import NewExecution
from gateway.store.writer import ExecutionWriter

HERE = Path(__file__).resolve().parent
ADMIN = os.environ.get("GATEWAY_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-only-secret-key-not-for-production-0123456789"


def psql(sql: str) -> None:
    subprocess.run(["psql", ADMIN, "-qc", sql], check=True, capture_output=True)


async def writes_per_second(
    writer: ExecutionWriter, version: WorkflowVersion, callers: int, seconds: float
) -> float:
    deadline = time.monotonic() + seconds
    written = 0

    async def caller() -> None:
        nonlocal written
        while time.monotonic() < deadline:
            await writer.write(
                NewExecution(
                    new_id(),
                    version.workflow_id,
                    version.id,
                    ExecutionStatus.QUEUED,
                    {"body": {"order": 1, "items": list(range(20))}},
                    b'{"order": 1}' * 50,
                    utcnow(),
                )
            )
            written += 1

    started = time.monotonic()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return written / (time.monotonic() - started)


async def measure(url: str, args: argparse.Namespace) -> list[dict[str, float]]:
    settings = Settings(database_url=url, secret_key=SECRET)
    await open_store(settings)
    try:
        version = await WorkflowVersion.all().first()
        assert version is not None, "bench/workflows was not applied"
        rows = []
        for n in range(args.rounds):
            row = {}
            for switch in (True, False) if n % 2 == 0 else (False, True):
                shortcuts.configure(switch)
                writer = ExecutionWriter()
                await writer.start()
                try:
                    row[str(switch)] = await writes_per_second(
                        writer, version, args.callers, args.seconds
                    )
                finally:
                    await writer.stop()
            print(n, {k: round(v) for k, v in row.items()}, file=sys.stderr)
            rows.append(row)
        return rows
    finally:
        shortcuts.configure(True)
        await close_store()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--callers", type=int, default=64)
    args = parser.parse_args()
    name = f"bench_writer_{uuid.uuid4().hex[:8]}"
    psql(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        env = {**os.environ, "GATEWAY_DATABASE_URL": url, "GATEWAY_SECRET_KEY": SECRET}
        gateway = str(Path(sys.executable).parent / "gateway")
        for command in (["migrate"], ["apply", str(HERE / "workflows")]):
            subprocess.run([gateway, *command], env=env, check=True, capture_output=True)
        rows = asyncio.run(measure(url, args))
    finally:
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    on, off = [r["True"] for r in rows], [r["False"] for r in rows]
    ratios = [r["True"] / r["False"] for r in rows]
    print(
        f"writes/s on {statistics.median(on):.0f}  off {statistics.median(off):.0f}  "
        f"on/off {statistics.median(ratios):.2f} [{min(ratios):.2f}..{max(ratios):.2f}]"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
