"""Journey: listen for a call on a disabled workflow (it arrives over the `capturedCalls`
subscription, not by polling), test-run the workflow with it (no request sent, the trace on
the graph), and turn the captured call into parse rules."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.journeys import CREATE, Served, check_screen, sign_in

DOCUMENT = {
    "key": "listen-demo",
    "sync": True,
    "enabled": False,
    "nodes": [
        {
            "key": "notify",
            "type": "request",
            "config": {
                "url": "https://crm.example.com/payments",
                "data": {"id": "{{$context.body.id}}"},
            },
        },
        {
            "key": "done",
            "type": "response",
            "config": {"statusCode": 200, "body": {"ok": "{{$context.body.id}}"}},
        },
    ],
}
EVENT = {"id": "evt_7", "data": {"object": {"amount": 1200}}}


@pytest.mark.timeout(180)
def test_listen_test_run_and_use_as_example(page: Page, served: Served) -> None:
    created = served.data(CREATE, input=DOCUMENT)["createWorkflow"]
    workflow_id, url = created["id"], created["trigger"]["url"]
    sign_in(page, served.token)
    page.goto(f"/console/workflows/{workflow_id}/trigger")
    frames: list[str] = []
    page.on(
        "websocket", lambda socket: socket.on("framesent", lambda sent: frames.append(str(sent)))
    )
    posted: list[str] = []
    page.on("request", lambda sent: posted.append(sent.post_data or ""))
    page.get_by_role("button", name="Listen", exact=True).click()
    expect(page.get_by_text("Listening for up to 10 calls")).to_be_visible()

    answered = httpx.post(url, json=EVENT, headers={"authorization": "Bearer s3cret"}, timeout=10)
    assert answered.status_code == 202  # disabled, captured
    use = page.get_by_role("button", name="Test run with call")
    expect(use).to_be_visible()
    page.get_by_text("Headers and body of call").click()
    expect(page.get_by_text("authorization: [redacted]")).to_be_visible()
    check_screen(page, "10-listen")
    call_id = use.inner_text().rsplit("#", 1)[1]
    subscribed = [json.loads(f) for f in frames if "capturedCalls" in f]
    assert [m["type"] for m in subscribed] == ["subscribe"]
    assert not [p for p in posted if "CaptureCalls" in p]  # no polling
    capture_id = subscribed[0]["payload"]["variables"]["captureId"]
    served.data("mutation($id: ID!) { closeCapture(id: $id) { id } }", id=capture_id)
    expect(page.get_by_text("Stopped listening.")).to_be_visible()  # the subscription completed

    use.click()
    expect(page.get_by_label(f"Use captured call #{call_id} as the request")).to_be_checked()
    page.get_by_role("button", name="Run test").click()
    expect(page.get_by_text("Run RESOLVED · answer 200")).to_be_visible()
    trace = page.get_by_role("list", name="Nodes run")
    expect(trace).to_contain_text("not sent: side effects are off")
    expect(page.get_by_role("button", name="notify request (test run: RESOLVED)")).to_be_visible()
    page.get_by_role("button", name="done response (test run: RESOLVED)").click()
    expect(page.get_by_text('"ok": "evt_7"').first).to_be_visible()
    page.get_by_role("button", name="Copy as test case").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "nodes:\n    - notify\n    - done" in copied
    check_screen(page, "11-test-run")

    page.goto(f"/console/workflows/{workflow_id}/rules?call={call_id}")
    expect(page.get_by_text(f"The example is captured call #{call_id}")).to_be_visible()
    page.get_by_role("button", name="Parse example").click()
    page.get_by_label("Use data.object.amount", exact=True).check()
    page.get_by_role("button", name="Add 1 rule").click()
    expect(page.get_by_text("1 rule added")).to_be_visible()
    rules = served.data(
        "query($id: ID!) { workflow(id: $id) { trigger { parseRules { key } } } }", id=workflow_id
    )
    assert [r["key"] for r in rules["workflow"]["trigger"]["parseRules"]] == ["data.object.amount"]


@pytest.mark.timeout(120)
def test_listen_polls_when_the_socket_is_refused(page: Page, served: Served) -> None:
    created = served.data(CREATE, input={**DOCUMENT, "key": "listen-polled"})["createWorkflow"]
    workflow_id, url = created["id"], created["trigger"]["url"]
    page.route_web_socket("**/graphql", lambda socket: socket.close())  # a proxy without them
    sign_in(page, served.token)
    page.goto(f"/console/workflows/{workflow_id}/trigger")
    posted: list[str] = []
    page.on("request", lambda sent: posted.append(sent.post_data or ""))
    page.get_by_role("button", name="Listen", exact=True).click()
    expect(page.get_by_text("Listening for up to 10 calls")).to_be_visible()

    answered = httpx.post(url, json=EVENT, timeout=10)
    assert answered.status_code == 202
    expect(page.get_by_role("button", name="Test run with call")).to_have_count(1)
    assert [p for p in posted if "CaptureCalls" in p]  # found by polling
    page.get_by_role("button", name="Stop listening").click()
    expect(page.get_by_text("Stopped listening.")).to_be_visible()
