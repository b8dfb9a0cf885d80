"""An execution's page shows its retries: each try of the failing node, the retries made and
when the next one runs (docs/executions.md)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.console.conftest import serving
from tests.e2e.console.journeys import Served, check_screen, sign_in
from tests.support import migrate_database, sqlite_url

REFUSED = "http://127.0.0.1:1/hook"  # nothing listens there: a network error, retryable
DOCUMENT = {
    "key": "retrying",
    "options": {"retry": {"schedule": ["1h"]}},
    "trigger": {"key": "retrying-console-key-000001"},
    "nodes": [
        {
            "key": "hook",
            "type": "request",
            "config": {"url": REFUSED, "retry": {"attempts": 2, "initialInterval": 1}},
        }
    ],
}
APPLY = "mutation($docs: [JSON!]!) { applyWorkflows(documents: $docs) { key } }"


@pytest.fixture(scope="module")
def allowing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    work = tmp_path_factory.mktemp("retries")
    database = sqlite_url(work / "gateway.db")
    migrate_database(database, work)
    with serving(database, work, GATEWAY_OUTBOUND_ALLOW="127.0.0.0/8") as served:
        yield served


@pytest.fixture
def page(allowing: Served, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        base_url=allowing.base_url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    errors: list[str] = []
    opened = context.new_page()
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == []


@pytest.mark.timeout(120)
def test_the_execution_page_shows_tries_and_the_next_retry(page: Page, allowing: Served) -> None:
    assert "errors" not in allowing.graphql(APPLY, docs=[DOCUMENT])
    answer = httpx.post(
        f"{allowing.base_url}/api/webhook:trigger/retrying-console-key-000001", json={}, timeout=10
    )
    execution_id = answer.headers["x-execution-id"]

    sign_in(page, allowing.token)
    page.goto(f"/console/executions/{execution_id}")

    expect(page.get_by_role("heading", name="Execution QUEUED")).to_be_visible()
    expect(page.get_by_text("Next retry")).to_be_visible()
    tries = page.get_by_role("list", name="Tries of hook")
    expect(tries.get_by_role("listitem")).to_have_count(2)
    expect(tries).to_contain_text("connection refused")
    expect(tries).to_contain_text("retried after 1 ms")
    check_screen(page, "11-execution-retrying")
