"""testRunWorkflow (docs/testing.md, Test run): the full trace, side effects held back unless
asked, the production checks applied, nothing stored unless asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml

from tests import signing
from tests.api.client import data, error
from tests.conftest import SettingsFactory
from tests.httpserver import Answer, Received, TestServer
from tests.support import Gateway, running_gateway

RUN = """
mutation Run($key: String, $document: JSON, $request: TestRequestInput, $call: ID,
             $execution: ID, $sideEffects: Boolean! = false, $skip: Boolean! = false,
             $record: Boolean! = false) {
  testRunWorkflow(workflowKey: $key, document: $document, request: $request,
                  capturedCallId: $call, executionId: $execution, sideEffects: $sideEffects,
                  skipAuthentication: $skip, record: $record) {
    workflow version sync origin authentication status rejected error reason executionId
    answer { status headers body }
    context testCase
    nodes { key type upstream status result error durationMs branch rendered note request }
  }
}
"""

# A Stripe-style workflow: basic auth, parse rules, a request to a CRM, a branch, an answer.
PAYMENTS = """
key: payments
sync: true
trigger:
  basicAuthentication: {username: stripe, password: s3cret-pass}
  request:
    body:
      - {key: type, required: true, type: string}
      - {key: data.object.amount, var: amount, type: integer}
nodes:
  - key: notify
    type: request
    config:
      method: POST
      url: "{crm}/payments"
      data: {amount: "{{$context.body.amount}}"}
  - key: paid
    type: condition
    config:
      rejectOnFalse: false
      calculation: {group: {type: and, calculations: [
        {calculator: equal, operands: ["{{$context.body.type}}", payment_intent.succeeded]}]}}
    branches:
      "1": [{key: ok, type: response, config: {statusCode: 200, body: {paid: "{{$context.body.amount}}", crm: "{{$jobsMapByNodeKey.notify}}"}}}]
      "0": [{key: ignored, type: response, config: {statusCode: 202, body: {ignored: true}}}]
"""
AUTH = {"authorization": "Basic c3RyaXBlOnMzY3JldC1wYXNz"}  # stripe:s3cret-pass
EVENT = {"type": "payment_intent.succeeded", "data": {"object": {"amount": 1200}}}


@pytest.fixture
async def crm() -> AsyncIterator[TestServer]:
    async def answer(request: Received) -> Answer:
        return Answer(200, {"stored": True})

    async with TestServer(answer, host="127.0.0.2") as server:
        yield server


@pytest.fixture
async def gateway(settings_factory: SettingsFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(settings_factory(outbound_allow=("127.0.0.0/8",))) as running:
        yield running


async def run(gateway: Gateway, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await data(gateway, RUN, **variables))["testRunWorkflow"]
    return result


async def test_the_trace_with_no_request_sent(gateway: Gateway, crm: TestServer) -> None:
    await gateway.apply(PAYMENTS.replace("{crm}", crm.url("")))
    result = await run(gateway, key="payments", request={"headers": AUTH, "body": EVENT})
    assert crm.received == []  # side effects are off: nothing left the machine
    assert (result["status"], result["authentication"], result["version"]) == (
        "RESOLVED",
        "passed",
        1,
    )
    assert [n["key"] for n in result["nodes"]] == ["notify", "paid", "ok"]
    notify, paid, ok = result["nodes"]
    assert (ok["status"], ok["result"]["statusCode"]) == ("RESOLVED", 200)
    assert notify["note"].startswith("not sent")
    assert notify["result"] == {"sent": False, "message": "not sent: side effects are off"}
    assert notify["request"]["url"] == crm.url("/payments")
    assert notify["request"]["body"] == '{"amount":1200}'
    assert notify["rendered"]["data"] == {"amount": 1200}
    assert (paid["branch"], paid["result"]) == (1, True)
    assert paid["rendered"]["calculation"]["group"]["calculations"][0]["operands"] == [
        "payment_intent.succeeded",
        "payment_intent.succeeded",
    ]
    assert all(n["durationMs"] >= 0 for n in result["nodes"])
    assert result["answer"]["status"] == 200
    assert result["answer"]["body"]["paid"] == 1200
    assert result["context"]["body"]["amount"] == 1200
    assert await gateway.executions("payments") == []  # not stored
    [case] = yaml.safe_load(result["testCase"])
    assert case["request"] == {
        "headers": {**AUTH, "content-type": "application/json"},
        "body": EVENT,
    }
    assert case["expect"] == {
        "status": 200,
        "body": result["answer"]["body"],
        "runStatus": "RESOLVED",
        "nodes": ["notify", "paid", "ok"],
    }


async def test_side_effects_when_asked_and_recording(gateway: Gateway, crm: TestServer) -> None:
    await gateway.apply(PAYMENTS.replace("{crm}", crm.url("")))
    request = {"headers": AUTH, "body": EVENT}
    result = await run(gateway, key="payments", request=request, sideEffects=True, record=True)
    [sent] = crm.received
    assert sent.json() == {"amount": 1200}
    assert result["nodes"][0]["result"]["data"] == {"stored": True}
    assert result["nodes"][0]["note"] is None
    [stored] = await gateway.executions("payments")
    assert stored["id"] == result["executionId"]
    assert stored["status"] == "RESOLVED"


async def test_a_pinned_result_stands_in(gateway: Gateway, crm: TestServer) -> None:
    pinned = PAYMENTS.replace("{crm}", crm.url("")).replace(
        "    type: request\n", "    type: request\n    pinned: {status: 201, data: {id: c-9}}\n"
    )
    await gateway.apply(pinned)
    result = await run(gateway, key="payments", request={"headers": AUTH, "body": EVENT})
    assert crm.received == []
    assert result["nodes"][0]["result"] == {"status": 201, "data": {"id": "c-9"}}
    assert result["answer"]["body"]["crm"] == {"status": 201, "data": {"id": "c-9"}}
    # the pinned value is part of the document: applying it again changes nothing
    [change] = await gateway.apply(pinned)
    assert change.action == "unchanged"


@pytest.mark.parametrize(
    ("headers", "body", "skip", "status", "authentication"),
    [
        # a wrong password: the sender's 401, nothing runs
        ({"authorization": "Basic c3RyaXBlOndyb25n"}, EVENT, False, 401, "none"),
        # skipped authentication: the run goes on to the parse rules, which fail (400)
        ({}, {"data": {}}, True, 400, "skipped"),
    ],
)
async def test_refusals_are_the_senders_answers(
    gateway: Gateway,
    crm: TestServer,
    headers: dict[str, str],
    body: Any,
    skip: bool,
    status: int,
    authentication: str,
) -> None:
    await gateway.apply(PAYMENTS.replace("{crm}", crm.url("")))
    request = {"headers": headers, "body": body}
    result = await run(gateway, key="payments", request=request, skip=skip)
    assert (result["rejected"], result["status"], result["nodes"]) == (True, "REJECTED", [])
    assert result["answer"]["status"] == status
    assert result["authentication"] == authentication


async def test_an_unsaved_document(gateway: Gateway, crm: TestServer) -> None:
    document = {
        "key": "draft",
        "sync": True,
        "nodes": [
            {
                "key": "answer",
                "type": "response",
                "config": {"statusCode": 201, "body": {"got": "{{$context.query.x}}"}},
            }
        ],
    }
    result = await run(gateway, document=document, request={"query": "x=7", "rawBody": ""})
    assert (result["workflow"], result["version"], result["answer"]["status"]) == (
        "draft",
        None,
        201,
    )
    assert result["answer"]["body"] == {"got": "7"}
    invalid = await error(
        gateway,
        RUN,
        document={**document, "nodes": [{"key": "x", "type": "nope"}]},
        request={},
    )
    assert invalid["extensions"]["code"] == "BAD_USER_INPUT"
    assert invalid["extensions"]["field"].startswith("nodes")


async def test_a_delay_does_not_wait(gateway: Gateway) -> None:
    await gateway.apply(
        """
key: later
trigger: {response: {statusCode: 202, body: {queued: "{{$context.body.id}}"}}}
nodes:
  - {key: wait, type: delay, config: {duration: 1, unit: day}}
  - {key: done, type: end, config: {endStatus: 1}}
"""
    )
    result = await run(gateway, key="later", request={"body": {"id": "e-1"}})
    assert (result["sync"], result["status"]) == (False, "RESOLVED")
    assert result["answer"] == {"status": 202, "headers": {}, "body": {"queued": "e-1"}}
    wait, done = result["nodes"]
    assert wait["note"].startswith("did not wait")
    assert done["status"] == "RESOLVED"


async def test_a_past_executions_request(gateway: Gateway, crm: TestServer) -> None:
    await gateway.apply(PAYMENTS.replace("{crm}", crm.url("")))
    answered = await gateway.post("payments", json=EVENT, headers=AUTH, params={"a[0]": "1"})
    assert answered.status_code == 200
    [past] = await gateway.executions("payments")
    crm.received.clear()
    result = await run(gateway, execution=past["id"])
    assert result["origin"] == f"execution {past['id']}"
    assert result["authentication"].startswith("not checked")
    assert result["context"]["query"] == {"a": ["1"]}
    assert result["answer"]["status"] == 200
    assert crm.received == []


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        # both a JSON body and a raw one
        ({"key": "payments", "request": {"body": {}, "rawBody": "x"}}, "request.rawBody"),
        # no request at all
        ({"key": "payments"}, "request"),
        # neither a workflow nor a document
        ({"request": {}}, "workflowKey"),
        # a captured call id that is not a number
        ({"key": "payments", "call": "abc"}, "capturedCallId"),
    ],
)
async def test_bad_input_names_the_field(
    gateway: Gateway, crm: TestServer, variables: dict[str, Any], field: str
) -> None:
    await gateway.apply(PAYMENTS.replace("{crm}", crm.url("")))
    failed = await error(gateway, RUN, **variables)
    assert failed["extensions"]["code"] == "BAD_USER_INPUT"
    assert failed["extensions"]["field"] == field


async def test_pinned_through_node_edits(gateway: Gateway, crm: TestServer) -> None:
    await gateway.apply(PAYMENTS.replace("{crm}", crm.url("")))
    nodes = await data(gateway, '{ workflow(key: "payments") { nodes { id key pinned } } }')
    [notify] = [n for n in nodes["workflow"]["nodes"] if n["key"] == "notify"]
    assert notify["pinned"] is None
    update = "mutation($id: ID!, $pinned: JSON) { updateNode(id: $id, input: {pinned: $pinned})"
    update += " { pinned workflow { version } } }"
    pinned = await data(gateway, update, id=notify["id"], pinned={"data": {"id": "c-1"}})
    assert pinned["updateNode"] == {"pinned": {"data": {"id": "c-1"}}, "workflow": {"version": 2}}
    result = await run(gateway, key="payments", request={"headers": AUTH, "body": EVENT})
    assert result["nodes"][0]["result"] == {"data": {"id": "c-1"}}
    cleared = await data(gateway, update, id=notify["id"], pinned=None)
    assert cleared["updateNode"]["pinned"] is None


STRIPE_SIGNED = """
key: signed
sync: true
trigger: {signature: {preset: stripe, secret: whsec_test_secret}}
nodes:
  - {key: ok, type: response, config: {statusCode: 200, body: {id: "{{$context.body.id}}"}}}
"""


@pytest.mark.parametrize(
    ("signed", "skip", "status", "authentication"),
    [
        # signed as Stripe signs: checked and passed
        (True, False, 200, "passed"),
        # unsigned: the sender's 401
        (False, False, 401, "none"),
        # unsigned, checks skipped
        (False, True, 200, "skipped"),
    ],
)
async def test_signatures_apply_unless_skipped(
    gateway: Gateway, signed: bool, skip: bool, status: int, authentication: str
) -> None:
    await gateway.apply(STRIPE_SIGNED)
    raw = '{"id": "evt_9"}'
    headers = {"content-type": "application/json"}
    if signed:
        headers |= signing.stripe("whsec_test_secret", raw.encode())
    request = {"headers": headers, "rawBody": raw}
    result = await run(gateway, key="signed", request=request, skip=skip)
    assert (result["answer"]["status"], result["authentication"]) == (status, authentication)


async def test_the_timeout_applies(gateway: Gateway) -> None:
    never = asyncio.Event()

    async def slow(request: Received) -> Answer:
        await never.wait()
        return Answer(200)

    async with TestServer(slow, host="127.0.0.2") as server:
        await gateway.apply(
            f"""
key: slow
sync: true
options: {{timeout: 200}}
nodes:
  - {{key: call, type: request, config: {{url: "{server.url("/slow")}", timeout: 10000}}}}
"""
        )
        held = await run(gateway, key="slow", request={"body": {}})
        assert (held["status"], held["answer"]["status"]) == ("RESOLVED", 200)
        sent = await run(gateway, key="slow", request={"body": {}}, sideEffects=True)
    assert (sent["status"], sent["reason"], sent["answer"]["status"]) == ("ABORTED", "timeout", 408)
    assert sent["nodes"][0]["status"] == "ABORTED"


async def test_a_loop_is_traced_per_iteration(gateway: Gateway, crm: TestServer) -> None:
    document = {
        "key": "each",
        "sync": True,
        "nodes": [
            {
                "key": "items",
                "type": "loop",
                "config": {"target": "{{$context.body.ids}}"},
                "branches": {
                    "0": [
                        {
                            "key": "push",
                            "type": "request",
                            "config": {
                                "url": crm.url("/x"),
                                "data": {"id": "{{$scopes.items.item}}"},
                            },
                        }
                    ]
                },
            }
        ],
    }
    result = await run(gateway, document=document, request={"body": {"ids": ["a", "b"]}})
    assert crm.received == []
    nodes = [
        (n["key"], n["upstream"], n["request"] and n["request"]["body"]) for n in result["nodes"]
    ]
    assert nodes == [
        ("items", None, None),
        ("push", "items", '{"id":"a"}'),
        ("push", "items", '{"id":"b"}'),
    ]


async def test_no_rate_limit_or_deduplication_is_spent(gateway: Gateway) -> None:
    await gateway.apply(
        """
key: limited
sync: true
trigger:
  rateLimit: {rate: 1, per: 3600, burst: 1}
  deduplicate: {key: "{{$context.body.id}}", window: 3600}
nodes:
  - {key: ok, type: response, config: {statusCode: 200, body: {id: "{{$context.body.id}}"}}}
"""
    )
    for _ in range(3):
        result = await run(gateway, key="limited", request={"body": {"id": "same"}})
        assert result["answer"]["status"] == 200
    first = await gateway.post("limited", json={"id": "same"})
    assert first.status_code == 200  # neither the rate limit nor the key was spent
    [ran] = await gateway.executions("limited")  # run, not answered as a duplicate
    assert ran["id"] == first.headers["x-execution-id"]
    assert (await gateway.post("limited", json={"id": "other"})).status_code == 429
