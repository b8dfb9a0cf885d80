"""The node library end to end through the webhook, with real services on 127.0.0.x."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.core.errors import DefinitionInvalid
from tests.conftest import SettingsFactory
from tests.httpserver import Answer, Received, TestServer
from tests.support import Gateway, running_gateway


@pytest.fixture
async def allowed(settings_factory: SettingsFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(settings_factory(outbound_allow=("127.0.0.0/8",))) as running:
        yield running


async def pricing(request: Received) -> Answer:
    return Answer(200, {"A-1": 5, "B-2": 7})


async def stock(request: Received) -> Answer:
    return Answer(200, {"available": True})


ORDER_FLOW = """
key: orders
sync: true
nodes:
  - key: valid
    type: condition
    config:
      engine: cel
      expression: "size({{{{$context.body.lines}}}}) > 0 && {{{{$context.body.currency}}}} in ['EUR', 'USD']"
      rejectOnFalse: false
    branches:
      "0": [{{key: invalid, type: response, config: {{statusCode: 422, body: {{error: invalid order}}}}}}]
  - key: skus
    type: json-query
    config: {{source: "{{{{$context.body}}}}", expression: "lines[?qty > `0`].sku"}}
  - key: services
    type: parallel
    config: {{mode: all}}
    branches:
      "1": [{{key: prices, type: request, config: {{method: GET, url: "{pricing}", onlyData: true}}}}]
      "2": [{{key: stock, type: request, config: {{method: POST, url: "{stock}", data: {{skus: "{{{{$jobsMapByNodeKey.skus}}}}"}}, onlyData: true}}}}]
  - key: total
    type: variable
    config: {{value: 0}}
  - key: each
    type: loop
    config: {{target: "{{{{$context.body.lines}}}}"}}
    branches:
      "0":
        - key: line
          type: calculation
          config: {{expression: "{{{{$jobsMapByNodeKey.total}}}} + {{{{$scopes.each.item.qty}}}} * {{{{$jobsMapByNodeKey.prices}}}}[{{{{$scopes.each.item.sku}}}}]"}}
        - key: add
          type: variable
          config: {{target: total, value: "{{{{$jobsMapByNodeKey.line}}}}"}}
  - key: answer
    type: response
    config:
      statusCode: 200
      body: {{skus: "{{{{$jobsMapByNodeKey.skus}}}}", total: "{{{{$jobsMapByNodeKey.total}}}}", inStock: "{{{{$jobsMapByNodeKey.stock.available}}}}"}}
"""


async def test_validate_look_up_call_two_services_loop_and_answer(allowed: Gateway) -> None:
    async with TestServer(pricing, "127.0.0.2") as prices, TestServer(stock, "127.0.0.3") as stocks:
        await allowed.apply(
            ORDER_FLOW.format(pricing=prices.url("/prices"), stock=stocks.url("/stock"))
        )
        order = {"currency": "EUR", "lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}]}
        response = await allowed.post("orders", json=order)
        assert response.status_code == 200, response.text
        assert response.json() == {"skus": ["A-1", "B-2"], "total": 17, "inStock": True}
        assert stocks.received[0].json() == {"skus": ["A-1", "B-2"]}

        invalid = await allowed.post("orders", json={"currency": "GBP", "lines": []})
        assert (invalid.status_code, invalid.json()) == (422, {"error": "invalid order"})

    execution = await allowed.execution(response.headers["x-execution-id"])
    assert execution["status"] == "RESOLVED"
    keys = [job["node_key"] if "node_key" in job else job["nodeKey"] for job in execution["jobs"]]
    assert keys.count("line") == 2 and keys.count("add") == 2  # a job per iteration
    assert {"valid", "skus", "services", "prices", "stock", "total", "each", "answer"} <= set(keys)


SLOW_FLOW = """
key: slow
sync: true
options: {{timeout: 200}}
nodes:
  - {{key: call, type: request, config: {{method: GET, url: "{url}", timeout: 60000}}}}
  - {{key: answer, type: response, config: {{body: never}}}}
"""


async def test_a_slow_service_times_the_sync_call_out(allowed: Gateway) -> None:
    async def never(_: Received) -> Answer:
        await asyncio.Event().wait()  # the test never sets it
        return Answer()

    async with TestServer(never, "127.0.0.4") as server:
        await allowed.apply(SLOW_FLOW.format(url=server.url("/slow")))
        response = await allowed.post("slow", json={})
        assert len(server.received) == 1
    assert response.status_code == 408
    execution = await allowed.execution(response.headers["x-execution-id"])
    assert (execution["status"], execution["reason"]) == ("ABORTED", "timeout")
    assert [job["status"] for job in execution["jobs"]] == ["ABORTED"]


@pytest.mark.parametrize(
    ("document", "fields"),
    [
        # delay only in async workflows
        (
            "{key: d, sync: true, nodes: [{key: wait, type: delay, config: {unit: hour, duration: 1}}]}",
            ["nodes[wait].type"],
        ),
        # and never inside a loop or parallel branch
        (
            "{key: d, sync: false, nodes: [{key: each, type: loop, config: {target: 2}, branches: {'0': [{key: wait, type: delay, config: {unit: hour, duration: 1}}]}}]}",
            ["nodes[wait].type"],
        ),
        # an assignment names an earlier variable node
        (
            "{key: v, sync: false, nodes: [{key: a, type: variable, config: {target: later, value: 1}}, {key: later, type: variable, config: {value: 0}}]}",
            ["nodes[a].config.target"],
        ),
        (
            "{key: v, sync: false, nodes: [{key: e, type: end}, {key: a, type: variable, config: {target: e, value: 1}}]}",
            ["nodes[a].config.target"],
        ),
        # a loop's condition may read its own scope; other nodes only their loops'
        (
            "{key: l, sync: false, nodes: [{key: each, type: loop, config: {target: 2, condition: {calculation: {calculator: lt, operands: ['{{$scopes.each.index}}', 1]}}}}, {key: v, type: variable, config: {value: '{{$scopes.each.item}}'}}]}",
            ["nodes[v].config"],
        ),
        # every problem of every new node at once
        (
            "{key: all, sync: true, nodes: ["
            "{key: c, type: calculation, config: {expression: 'amount > 1'}},"
            "{key: q, type: json-query, config: {source: '{{$context.body}}', expression: 'a[?'}},"
            "{key: r, type: request, config: {method: FETCH, url: 'ftp://x', timeout: 0}},"
            "{key: p, type: parallel, config: {mode: some}},"
            "{key: if, type: condition, config: {engine: cel, expression: '1 + 1'}}]}",
            [
                "nodes[c].config.expression",
                "nodes[q].config.expression",
                "nodes[r].config.method",
                "nodes[r].config.url",
                "nodes[r].config.timeout",
                "nodes[p].config.mode",
                "nodes[if].config.expression",
            ],
        ),
    ],
)
async def test_save_time_refusals(gateway: Gateway, document: str, fields: list[str]) -> None:
    with pytest.raises(DefinitionInvalid) as info:
        await gateway.apply(document)
    assert [p.field for p in info.value.problems] == fields
