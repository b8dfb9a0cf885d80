"""Journey 6: with PostgreSQL, Redis and a separate `gateway worker`, an execution the worker
runs appears in a console connected to the server, without a reload: live, through the
subscription (the list says "Live", so it does not poll)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.databases import PostgresTemplate
from tests.e2e.console.conftest import gateway_env, running, serving
from tests.e2e.console.journeys import Served, sign_in

pytestmark = pytest.mark.timeout(120)
PAYMENTS = "/api/webhook:trigger/example-payment-events-key-0001"
WORKER_READY = "worker connected to Redis"


@pytest.fixture(scope="module")
def served(
    postgres_template: PostgresTemplate, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """A server and a worker on one PostgreSQL database and a Redis queue of their own."""
    work: Path = tmp_path_factory.mktemp("scaled")
    name = postgres_template.clone()
    database = postgres_template.url(name)
    queue = {"GATEWAY_REDIS_URL": redis_url, "GATEWAY_REDIS_QUEUE": f"arq:e2e:{uuid.uuid4().hex}"}
    try:
        with serving(database, work, **queue) as served:
            env = gateway_env(database, served.base_url, **queue)
            with running(["worker"], env, work, WORKER_READY):
                yield served
    finally:
        postgres_template.drop(name)


def test_an_execution_run_by_a_worker_appears_in_the_open_list(page: Page, served: Served) -> None:
    sign_in(page, served.token)
    page.get_by_role("link", name="Payment provider events").click()
    page.get_by_role("link", name="Executions").last.click()
    expect(page.get_by_text("No executions match.")).to_be_visible()
    expect(page.get_by_role("status").get_by_text("Live", exact=True)).to_be_visible()

    event = {"id": "evt_w", "type": "payment_intent.succeeded", "data": {"object": {"amount": 5}}}
    answer = httpx.post(
        served.base_url + PAYMENTS, json=event, auth=("payments", "dev-only-password")
    )
    assert answer.status_code == 200  # accepted: the worker runs it

    row = page.get_by_role("row").filter(has_text="RESOLVED")
    expect(row).to_have_count(1)
    row.get_by_role("link").first.click()
    jobs = page.get_by_role("table", name="Jobs")
    expect(jobs).to_contain_text("positive-amount")
