"""The real thing to compare with: NocoBase's own calculators, template rendering and
expression engines, Node's `qs`, and GitHub's signature library, run by Node from
`tests/js` (installed by `make test`, pinned in `tests/js/package-lock.json`).

A table of cases is sent in one batch (`run`) to one Node process kept for the test
session (NocoBase's packages take seconds to load), and each case's result is what the
reference gave: `{"value", "type"}` (`type` is JavaScript's `typeof`), `{"error"}` when it
threw, with `returnedError` when formula.js returned an error value.
"""

from __future__ import annotations

import asyncio
import atexit
import subprocess
import tempfile
from typing import IO, Any

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


class _Server:
    """`reference.js --serve`: one line of tasks in, one line of results out."""

    def __init__(self) -> None:
        _installed()
        self.log: IO[bytes] = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            ["node", str(SCRIPT), "--serve"],
            cwd=JS,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        atexit.register(self.stop)

    def ask(self, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(orjson.dumps(tasks) + b"\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            self.log.seek(0)
            return _results(self.process.wait(), b"", self.log.read())
        return _results(0, line, b"")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


_server: _Server | None = None


def run(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    global _server
    if _server is None or _server.process.poll() is not None:
        _server = _Server()
    return _server.ask(tasks)


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
