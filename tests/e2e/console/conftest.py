"""Browser journeys: a real `gateway serve` (SQLite in a temporary directory) driven by
Debian's Chromium through Playwright, synchronously (Playwright's sync API runs outside
pytest-asyncio's loops). `.ci/run` installs Chromium; without it these tests skip, except in
CI where they fail."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    expect,
    sync_playwright,
)

from tests.databases import in_ci
from tests.e2e.console.journeys import CHROMIUM, CHROMIUM_ARGS, Served
from tests.support import (
    GATEWAY_BIN,
    ROOT,
    TEST_ADMIN_TOKEN,
    TEST_SECRET_KEY,
    free_port,
    migrate_database,
    sqlite_url,
)

READY = "Application startup complete"
expect.set_options(timeout=10_000)


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


class _Log:
    """A process's log lines, read on a thread so the pipe never fills; `ready` is set at
    the line that says it is ready (or when the process ends)."""

    def __init__(self, stream: object, marker: str) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(stream, marker), daemon=True)
        self._thread.start()

    def _read(self, stream: object, marker: str) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.append(line)
            if marker in line:
                self.ready.set()
        self.ready.set()

    def join(self) -> None:
        self._thread.join(10)


def gateway_env(database_url: str, base_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return env | {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_CONFIG": "/nonexistent/gateway.toml",
        "GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
        "GATEWAY_ADMIN_TOKENS": TEST_ADMIN_TOKEN,
        "GATEWAY_PUBLIC_URL": base_url,
        "GATEWAY_WORKFLOWS_DIR": str(ROOT / "config" / "workflows"),
        "GATEWAY_INTROSPECTION": "true",
        **extra,
    }


@contextmanager
def running(args: list[str], env: dict[str, str], cwd: Path, ready: str) -> Iterator[list[str]]:
    """A `gateway` command, ready; yields its log lines; terminated at the end."""
    process = subprocess.Popen(
        [GATEWAY_BIN, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = _Log(process.stderr, ready)
    try:
        assert log.ready.wait(30) and process.poll() is None, "".join(log.lines)
        yield log.lines
    finally:
        process.terminate()
        process.wait(20)
        log.join()
        assert process.stderr is not None
        process.stderr.close()


@contextmanager
def serving(database_url: str, work: Path, **extra: str) -> Iterator[Served]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = gateway_env(database_url, base_url, **extra)
    with running(["serve", "--port", str(port)], env, work, READY) as log:
        yield Served(base_url, TEST_ADMIN_TOKEN, log)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The gateway on SQLite, with the examples of config/workflows applied."""
    work = tmp_path_factory.mktemp("served")
    database = sqlite_url(work / "gateway.db")
    migrate_database(database, work)
    with serving(database, work) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(served: Served, browser: Browser) -> Iterator[Page]:
    """A fresh browser context (its own sessionStorage) on the served console. At the end:
    no script error, no CSP violation, and no request left this origin. (`served` is set up
    before `browser`: Playwright's sync API marks an event loop as running in this thread,
    and the PostgreSQL fixtures call asyncio.run.)"""
    context = browser.new_context(base_url=served.base_url, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served.base_url)
    context.set_default_timeout(10_000)
    opened = context.new_page()
    problems: list[str] = []
    origins = (served.base_url, served.base_url.replace("http:", "ws:"), "data:")

    def console_message(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            problems.append(message.text)

    def request(sent: Request) -> None:
        if not sent.url.startswith(origins):
            problems.append(f"request to another origin: {sent.url}")

    opened.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    opened.on("console", console_message)
    opened.on("request", request)
    yield opened
    context.close()
    assert problems == []
