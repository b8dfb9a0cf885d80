"""Journeys 2 to 4, as one user would click through them: create a workflow, turn a pasted
body into three rules in one save, add a condition with a response on each branch, enable
it, call the copied URL, watch the execution appear, open it, replay it."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.journeys import WORKFLOW, Served, sign_in

EXAMPLE = """{
  "id": "evt_1",
  "type": "payment_intent.succeeded",
  "data": {"object": {"id": "pi_1", "amount": 1200, "currency": "eur"}},
  "livemode": false
}"""
CONDITION = """rejectOnFalse: false
calculation:
  group:
    type: and
    calculations:
      - calculator: equal
        operands: ["{{$context.body.type}}", payment_intent.succeeded]
"""
PAID = 'statusCode: 200\nbody: {paid: true, amount: "{{$context.body.data.object.amount}}"}\n'
IGNORED = "statusCode: 202\nbody: {ignored: true}\n"


def create_workflow(page: Page, key: str) -> str:
    page.get_by_role("button", name="New workflow").click()
    dialog = page.get_by_role("dialog", name="New workflow")
    dialog.get_by_label("Key", exact=True).fill(key)
    dialog.get_by_label("Title").fill("Payments from the console")
    dialog.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Payments from the console")).to_be_visible()
    return page.url.split("/workflows/")[1].split("/")[0]


def add_node(page: Page, type_: str, key: str, place: str, config: str) -> None:
    page.get_by_role("button", name="Add node").click()
    page.get_by_label("Type").select_option(type_)
    page.get_by_label("Key", exact=True).fill(key)
    page.get_by_label("Place").select_option(label=place)
    page.get_by_label("Config", exact=True).fill(config)
    page.get_by_role("button", name="Create node").click()
    expect(page.get_by_role("button", name=f"{key} {type_}", exact=True)).to_be_visible()


@pytest.mark.timeout(180)
def test_build_a_workflow_call_it_and_watch_it_run(page: Page, served: Served) -> None:
    sign_in(page, served.token)
    workflow_id = create_workflow(page, "console-payments")
    created = served.data(WORKFLOW, id=workflow_id)["workflow"]

    # 2. Parse example: three paths ticked, aliases set, one save.
    page.get_by_role("link", name="Parse rules").click()
    page.get_by_label("Example", exact=True).fill(EXAMPLE)
    page.get_by_role("button", name="Parse example").click()
    for path, alias in [
        ("type", "Event type"),
        ("data.object.id", "Payment"),
        ("data.object.amount", "Amount"),
    ]:
        page.get_by_label(f"Use {path}", exact=True).check()
        page.get_by_label(f"Alias for {path}", exact=True).fill(alias)
    page.get_by_label("Required: type", exact=True).check()
    page.get_by_role("button", name="Add 3 rules").click()
    expect(page.get_by_role("status").filter(has_text="3 rules added")).to_be_visible()

    saved = served.data(WORKFLOW, id=workflow_id)["workflow"]
    assert saved["version"] == created["version"] + 1  # one new version, not three
    assert saved["trigger"]["parseRules"] == [
        {
            "source": "BODY",
            "key": "type",
            "alias": "Event type",
            "type": "string",
            "required": True,
        },
        {
            "source": "BODY",
            "key": "data.object.id",
            "alias": "Payment",
            "type": "string",
            "required": False,
        },
        {
            "source": "BODY",
            "key": "data.object.amount",
            "alias": "Amount",
            "type": "integer",
            "required": False,
        },
    ]

    # 3. A condition with a response on each branch, then enable.
    page.get_by_role("link", name="Nodes").click()
    add_node(page, "condition", "paid", "main chain", CONDITION)
    add_node(page, "response", "accepted", "paid → true", PAID)
    add_node(page, "response", "ignored", "paid → false", IGNORED)
    nodes = served.data(WORKFLOW, id=workflow_id)["workflow"]["nodes"]
    assert {n["key"]: (n["upstream"], n["branchIndex"]) for n in nodes} == {
        "paid": (None, None),
        "accepted": ("paid", 1),
        "ignored": ("paid", 0),
    }
    page.get_by_role("switch", name="Workflow enabled").click()
    expect(page.get_by_role("switch", name="Workflow enabled")).to_have_attribute(
        "aria-checked", "true"
    )

    # 4. Copy the URL, open the executions, call it: the execution shows up without a reload.
    page.get_by_role("link", name="Trigger").click()
    page.get_by_role("button", name="Copy URL").click()
    expect(page.get_by_text("Copied")).to_be_visible()
    url = page.evaluate("navigator.clipboard.readText()")
    assert url == served.data(WORKFLOW, id=workflow_id)["workflow"]["trigger"]["url"]
    page.get_by_role("link", name="Executions", exact=True).last.click()
    expect(page.get_by_text("No executions match.")).to_be_visible()
    expect(page.get_by_role("status").get_by_text("Live", exact=True)).to_be_visible()  # no polling

    answer = httpx.post(url, content=EXAMPLE, headers={"content-type": "application/json"})
    assert answer.status_code == 200 and answer.json() == {"paid": True, "amount": 1200}

    row = page.get_by_role("row").filter(has_text="RESOLVED")
    expect(row).to_have_count(1)
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Execution RESOLVED")).to_be_visible()
    jobs = page.get_by_role("table", name="Jobs")
    expect(jobs.get_by_role("row")).to_have_count(3)  # header, paid, accepted
    expect(jobs).to_contain_text("paid")
    expect(jobs).to_contain_text("accepted")
    expect(page.get_by_label("Answer sent")).to_contain_text('"amount": 1200')
    expect(page.get_by_role("tabpanel", name="body")).to_contain_text('"amount": 1200')
    page.get_by_role("tab", name="raw body").click()
    expect(page.get_by_role("tabpanel", name="raw body")).to_have_text(EXAMPLE)

    first_id = page.url.rsplit("/", 1)[1]
    page.get_by_role("button", name="Replay").click()
    expect(page.get_by_role("link", name=first_id)).to_be_visible()  # "Replay of"
    expect(page.get_by_role("heading", name="Execution RESOLVED")).to_be_visible()
    replay_id = page.url.rsplit("/", 1)[1]
    # a second click on the original's page is a second replay, not the first one again
    page.get_by_role("link", name=first_id).click()
    expect(page).to_have_url(re.compile(f"/executions/{first_id}$"))
    page.get_by_role("button", name="Replay").click()
    expect(page.get_by_role("link", name=first_id)).to_be_visible()
    expect(page).not_to_have_url(re.compile(f"/executions/({first_id}|{replay_id})$"))
