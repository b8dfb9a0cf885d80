"""Capture (docs/testing.md, Capture): calls recorded while a capture is open, enabled or
not, secrets redacted, bounded; listed through GraphQL and read by parseExample."""

from __future__ import annotations

import gzip
from datetime import timedelta
from typing import Any

import orjson
import pytest

from gateway.service import captures
from tests.api.client import data, error
from tests.support import Gateway

HOOK = """
key: hook
sync: true
enabled: {enabled}
trigger:
  request:
    body: [{{key: id, required: true}}]
nodes:
  - {{key: answer, type: response, config: {{statusCode: 200, body: {{got: "{{{{$context.body.id}}}}"}}}}}}
"""
OPEN = """
mutation($key: String!, $calls: Int, $seconds: Int) {
  openCapture(workflowKey: $key, maxCalls: $calls, seconds: $seconds) {
    id open maxCalls callsCount expiresAt
  }
}
"""
LIST = """
query($key: String!) {
  captures(workflowKey: $key) {
    id open callsCount
    calls { id method path headers query body size truncated answerStatus }
  }
}
"""
SIGNED = {
    "content-type": "application/json",
    "authorization": "Bearer top-secret",
    "stripe-signature": "t=1,v1=abc",
    "cookie": "session=xyz",
    "x-request-id": "r-1",
}


async def open_capture(gateway: Gateway, **variables: Any) -> dict[str, Any]:
    opened: dict[str, Any] = (await data(gateway, OPEN, key="hook", **variables))["openCapture"]
    return opened


async def calls(gateway: Gateway) -> list[dict[str, Any]]:
    [capture, *_] = (await data(gateway, LIST, key="hook"))["captures"]
    found: list[dict[str, Any]] = capture["calls"]
    return found


async def test_a_disabled_workflow_answers_202_and_records(gateway: Gateway) -> None:
    await gateway.apply(HOOK.format(enabled="false"))
    assert (await gateway.post("hook", json={"id": 1})).status_code == 404  # no capture yet
    opened = await open_capture(gateway)
    assert (opened["open"], opened["maxCalls"], opened["callsCount"]) == (True, 10, 0)
    answered = await gateway.post(
        "hook", content=b'{"id": "evt_1"}', headers=SIGNED, params={"page": "2"}
    )
    assert answered.status_code == 202
    assert answered.json()["captured"] is True
    assert "disabled" in answered.json()["message"]
    [call] = await calls(gateway)
    assert call["method"] == "POST"
    assert call["query"] == "page=2"
    assert orjson.loads(call["body"]) == {"id": "evt_1"}
    assert call["answerStatus"] == 202
    headers = call["headers"]
    assert headers["x-request-id"] == "r-1"
    for secret in ("authorization", "stripe-signature", "cookie"):
        assert headers[secret] == "[redacted]"
    assert await gateway.executions("hook") == []  # nothing ran


async def test_an_enabled_workflow_runs_as_usual(gateway: Gateway) -> None:
    await gateway.apply(HOOK.format(enabled="true"))
    await open_capture(gateway)
    ran = await gateway.post("hook", json={"id": "a"})
    assert (ran.status_code, ran.json()) == (200, {"got": "a"})
    refused = await gateway.post("hook", json={"no": "id"})  # a parse rule fails
    assert refused.status_code == 400
    zipped = await gateway.post(
        "hook",
        content=gzip.compress(b'{"id": "z"}'),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert zipped.status_code == 200
    recorded = await calls(gateway)
    assert [c["answerStatus"] for c in recorded] == [200, 400, 200]
    assert orjson.loads(recorded[1]["body"]) == {"no": "id"}
    assert orjson.loads(recorded[2]["body"]) == {"id": "z"}  # stored decoded
    assert "content-encoding" not in recorded[2]["headers"]
    assert len(await gateway.executions("hook")) == 2


async def test_bounded_by_calls_and_closed(gateway: Gateway) -> None:
    await gateway.apply(HOOK.format(enabled="false"))
    await open_capture(gateway, calls=2)
    statuses = [(await gateway.post("hook", json={"id": i})).status_code for i in range(3)]
    assert statuses == [202, 202, 404]  # full: as if there were no capture
    [capture] = (await data(gateway, LIST, key="hook"))["captures"]
    assert (capture["open"], capture["callsCount"], len(capture["calls"])) == (False, 2, 2)
    reopened = await open_capture(gateway)
    closed = await data(
        gateway, "mutation($id: ID!) { closeCapture(id: $id) { open } }", id=reopened["id"]
    )
    assert closed["closeCapture"]["open"] is False
    assert (await gateway.post("hook", json={"id": 9})).status_code == 404


async def test_a_long_body_is_cut(gateway: Gateway) -> None:
    await gateway.apply(HOOK.format(enabled="false"))
    await open_capture(gateway)
    body = b'{"id": "' + b"x" * captures.MAX_CALL_BYTES + b'"}'
    answered = await gateway.post(
        "hook", content=body, headers={"content-type": "application/json"}
    )
    assert answered.status_code == 202
    [call] = await calls(gateway)
    assert (call["truncated"], call["size"]) == (True, len(body))
    assert len(call["body"]) == captures.MAX_CALL_BYTES


async def test_parse_example_and_test_run_from_a_captured_call(gateway: Gateway) -> None:
    await gateway.apply(HOOK.format(enabled="false"))
    await open_capture(gateway)
    body = {"id": "evt_1", "data": {"object": {"amount": 5}}}
    await gateway.post("hook", json=body, headers=SIGNED)
    [call] = await calls(gateway)
    parsed = await data(
        gateway,
        "query($id: ID!, $source: ParseSource!) {"
        " parseExample(source: $source, capturedCallId: $id) { path ruleType } }",
        id=call["id"],
        source="BODY",
    )
    paths = [p["path"] for p in parsed["parseExample"]]
    assert paths == ["id", "data", "data.object", "data.object.amount"]
    headers = await data(
        gateway,
        "mutation($id: ID!) { parseExample(source: HEADERS, capturedCallId: $id) { path } }",
        id=call["id"],
    )
    names = {p["path"] for p in headers["parseExample"]}
    assert "x-request-id" in names and "authorization" not in names  # redacted: left out
    run = await data(
        gateway,
        "mutation($id: ID!) { testRunWorkflow(capturedCallId: $id) {"
        " workflow origin answer { status body } } }",
        id=call["id"],
    )
    assert run["testRunWorkflow"]["workflow"] == "hook"
    assert run["testRunWorkflow"]["answer"] == {"status": 200, "body": {"got": "evt_1"}}


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        # more calls than a capture may hold
        ({"calls": 101}, "maxCalls"),
        # no time at all
        ({"seconds": 0}, "seconds"),
    ],
)
async def test_bounds_are_checked(gateway: Gateway, variables: dict[str, Any], field: str) -> None:
    await gateway.apply(HOOK.format(enabled="true"))
    failed = await error(gateway, OPEN, key="hook", **variables)
    assert failed["extensions"]["code"] == "BAD_USER_INPUT"
    assert failed["extensions"]["field"] == field


async def test_expired_captures_are_pruned(gateway: Gateway) -> None:
    await gateway.apply(HOOK.format(enabled="false"))
    await open_capture(gateway, seconds=1)
    await gateway.post("hook", json={"id": 1})
    assert await captures.prune(timedelta(days=1)) == 0  # ended less than a day ago: kept
    assert await captures.prune(-timedelta(hours=1)) == 1  # as if a day had passed
    assert (await data(gateway, LIST, key="hook"))["captures"] == []


@pytest.mark.parametrize(
    ("query", "variables", "code", "field"),
    [
        # both a pasted example and a captured call
        (
            '{ parseExample(source: BODY, example: "{}", capturedCallId: "1") { path } }',
            {},
            "BAD_USER_INPUT",
            "example",
        ),
        # a captured call that does not exist
        ('{ parseExample(source: BODY, capturedCallId: "999") { path } }', {}, "NOT_FOUND", None),
        # closing a capture that does not exist
        ('mutation { closeCapture(id: "999") { id } }', {}, "NOT_FOUND", None),
        # a capture on a workflow that does not exist
        ('mutation { openCapture(workflowKey: "nope") { id } }', {}, "NOT_FOUND", None),
    ],
)
async def test_unknown_and_ambiguous_references(
    gateway: Gateway, query: str, variables: dict[str, Any], code: str, field: str | None
) -> None:
    failed = await error(gateway, query, **variables)
    assert failed["extensions"]["code"] == code
    assert failed["extensions"].get("field") == field


async def test_a_refused_call_is_recorded_with_its_body(gateway: Gateway) -> None:
    await gateway.apply(
        HOOK.format(enabled="true").replace(
            "trigger:\n", "trigger:\n  basicAuthentication: {username: u, password: p4ssword}\n"
        )
    )
    await open_capture(gateway)
    refused = await gateway.post("hook", json={"id": "x"}, params={"token": "t0p", "page": "2"})
    assert refused.status_code == 401
    [call] = await calls(gateway)
    assert call["answerStatus"] == 401
    assert orjson.loads(call["body"]) == {"id": "x"}  # read after the refusal, for the record
    assert call["query"] == "token=%5Bredacted%5D&page=2"
