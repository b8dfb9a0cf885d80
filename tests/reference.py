"""The real thing to compare with: NocoBase's own calculators, template rendering and
expression engines, Node's `qs`, and GitHub's signature library, run by Node from
`tests/js` (installed by `make test`, pinned in `tests/js/package-lock.json`).

A table of cases is sent in one batch (`run`), one Node process per table, and each case's
result is what the reference gave: `{"value", "type"}` (`type` is JavaScript's `typeof`),
`{"error"}` when it threw, with `returnedError` when formula.js returned an error value.
"""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

import orjson

from tests.support import ROOT

JS = ROOT / "tests" / "js"
SCRIPT = JS / "reference.js"


def _installed() -> None:
    if not (JS / "node_modules").is_dir():
        raise RuntimeError("tests/js/node_modules is missing: run `make test` (it runs npm ci)")


def _results(code: int | None, stdout: bytes, stderr: bytes) -> list[dict[str, Any]]:
    if code != 0:
        raise RuntimeError(f"reference.js failed: {stderr.decode(errors='replace')}")
    results: list[dict[str, Any]] = orjson.loads(stdout)
    return results


def run(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    _installed()
    done = subprocess.run(
        ["node", str(SCRIPT)],
        input=orjson.dumps(tasks),
        capture_output=True,
        cwd=JS,
        timeout=60,
        check=False,
    )
    return _results(done.returncode, done.stdout, done.stderr)


async def run_async(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`run` without blocking the event loop (a test that also serves or reads a process)."""
    _installed()
    process = await asyncio.create_subprocess_exec(
        "node",
        str(SCRIPT),
        cwd=JS,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        stdout, stderr = await process.communicate(orjson.dumps(tasks))
    return _results(process.returncode, stdout, stderr)


def one(task: dict[str, Any]) -> dict[str, Any]:
    return run([task])[0]
