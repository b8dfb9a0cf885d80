"""`make run` in a fresh copy of the project, as a newcomer starts it (a real subprocess)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).parents[2]
READY = "Application startup complete"


@dataclass
class Project:
    """A fresh copy of the project, served by `make run` on `port`."""

    path: Path
    port: int
    env: dict[str, str]
    banner: list[str]


def copy_project(path: Path) -> None:
    """What a clone holds that `make run` reads; `.venv` is this checkout's (installed)."""
    for name in (".venv", "Makefile", "pyproject.toml"):
        (path / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "config" / "workflows", path / "config" / "workflows")


def clean_env() -> dict[str, str]:
    """The environment of a new terminal: no GATEWAY_* setting, no virtualenv active."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "VIRTUAL_ENV"))}
    env["PATH"] = ":".join(p for p in env["PATH"].split(":") if "/.venv/" not in p)
    return env


def shell_env(port: int) -> dict[str, str]:
    """A second terminal's: the default public URL, moved to the test's port."""
    return clean_env() | {"GATEWAY_PUBLIC_URL": f"http://127.0.0.1:{port}"}


def _read(stream: IO[str], lines: list[str], ready: threading.Event) -> None:
    for line in stream:
        lines.append(line.rstrip("\n"))
        if READY in line:
            ready.set()
    ready.set()


def start(path: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        # `-o`: the shared .venv is this checkout's; never reinstall it from the copy.
        ["make", "--no-print-directory", "-o", ".venv/.installed", "run", f"PORT={port}"],
        cwd=path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # make and the gateway it starts are stopped together
    )


@contextmanager
def make_run(path: Path, port: int) -> Iterator[list[str]]:
    """`make run PORT=port` in `path`, ready; yields its output lines (the banner first)."""
    server = start(path, port)
    assert server.stdout is not None
    lines: list[str] = []
    ready = threading.Event()
    reader = threading.Thread(target=_read, args=(server.stdout, lines, ready), daemon=True)
    reader.start()
    try:
        assert ready.wait(60) and server.poll() is None, "\n".join(lines)
        yield lines
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        reader.join(10)
        server.stdout.close()
