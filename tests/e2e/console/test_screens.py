"""Journey 7 and the screenshots: every screen passes axe-core (no serious or critical
violation) and every control on it is reached with the Tab key; each is saved as a picture
in build/screenshots/. GraphiQL works with no network, from the package."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.journeys import Served, check_screen, screenshot, sign_in

PAYMENTS = "/api/webhook:trigger/example-payment-events-key-0001"
EVENT = {
    "id": "evt_1",
    "type": "payment_intent.succeeded",
    "data": {"object": {"id": "pi_1", "amount": 1200}},
}
WORKFLOW_ID = "query($key: String!) { workflow(key: $key) { id } }"


def workflow_id(served: Served, key: str) -> str:
    found: str = served.data(WORKFLOW_ID, key=key)["workflow"]["id"]
    return found


@pytest.mark.timeout(240)
def test_every_screen_is_accessible_and_keyboard_reachable(page: Page, served: Served) -> None:
    page.goto("/console/")
    expect(page.get_by_role("heading", name="Sign in to the gateway")).to_be_visible()
    check_screen(page, "01-sign-in")

    sign_in(page, served.token)
    expect(page.get_by_role("link", name="GitHub event router")).to_be_visible()
    expect(page.get_by_text("never run").first).to_be_visible()
    check_screen(page, "02-workflows")

    page.get_by_role("button", name="New workflow").click()
    expect(page.get_by_role("dialog", name="New workflow")).to_be_visible()
    check_screen(page, "03-new-workflow")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    payments = workflow_id(served, "payment-events")
    page.goto(f"/console/workflows/{payments}/trigger")
    expect(page.get_by_role("heading", name="Webhook URL")).to_be_visible()
    check_screen(page, "04-trigger")

    page.get_by_role("link", name="Parse rules").click()
    page.get_by_label("Example", exact=True).fill(
        '{"id": "evt_2", "data": {"object": {"id": "pi_2"}}}'
    )
    page.get_by_role("button", name="Parse example").click()
    page.get_by_label("Use data.object", exact=True).check()
    check_screen(page, "05-parse-rules")

    router = workflow_id(served, "github-router")
    page.goto(f"/console/workflows/{router}/nodes")
    page.get_by_role("button", name="Which event? multi-conditions · event").focus()
    page.keyboard.press("Enter")  # a node of the graph is selected from the keyboard
    expect(page.get_by_role("heading", name="Node event")).to_be_visible()
    check_screen(page, "06-nodes")

    page.get_by_role("link", name="Document").click()
    document = page.get_by_label("Document (YAML)")
    expect(document).to_have_value(re.compile(r"^key: github-router"))
    document.fill(
        document.input_value().replace("title: GitHub event router", "title: GitHub router")
    )
    page.get_by_role("button", name="Preview changes").click()
    expect(page.get_by_label("Changes to the document")).to_contain_text("+ title: GitHub router")
    check_screen(page, "07-document")

    auth = ("payments", "dev-only-password")
    answer = httpx.post(served.base_url + PAYMENTS, json=EVENT, auth=auth, timeout=10)
    assert answer.json() == {"received": True, "event": "evt_1"}
    page.get_by_role("link", name="Executions", exact=True).first.click()
    expect(page.get_by_role("heading", name="Executions", level=1)).to_be_visible()
    row = page.get_by_role("row").filter(has_text="payment-events").filter(has_text="RESOLVED")
    expect(row).to_be_visible()
    expect(page.get_by_text("resolved 1")).to_be_visible()  # the chart's legend
    check_screen(page, "08-executions")

    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Execution RESOLVED")).to_be_visible()
    check_screen(page, "09-execution")

    page.get_by_role("link", name="Admin tokens").click()
    page.get_by_label("New token for").fill("screens")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("New token", exact=True)).to_have_value(re.compile(r"^gw_"))
    check_screen(page, "10-tokens")


def test_graphiql_runs_offline_from_the_package(page: Page, served: Served) -> None:
    sign_in(page, served.token)  # GraphiQL in this tab uses the console's session
    with page.expect_response(lambda r: "IntrospectionQuery" in (r.request.post_data or "")):
        page.goto("/graphql")  # the schema is read with the session's token
    # The editors load lazily: a result that arrives before its editor exists is not shown.
    expect(page.locator(".graphiql-response .CodeMirror")).to_be_attached()
    page.get_by_role("button", name="Execute query").click()
    # The default query's answer (other tests of this module may have added workflows).
    answer = re.compile(r'"totalCount": \d+')
    expect(page.locator(".graphiql-response")).to_contain_text(answer, timeout=20_000)
    screenshot(page, "11-graphiql")
