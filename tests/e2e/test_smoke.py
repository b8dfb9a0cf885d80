from __future__ import annotations

from tests.support import Gateway

ROUTER = """
key: router
sync: true
nodes:
  - key: check
    type: condition
    config:
      rejectOnFalse: false
      calculation: {group: {type: and, calculations: [{calculator: equal, operands: ["{{$context.body.kind}}", "a"]}]}}
    branches:
      "1": [{key: is_a, type: response, config: {statusCode: 201, body: {kind: "{{$context.body.kind}}"}}}]
      "0": [{key: other, type: response, config: {statusCode: 202, body: "other"}}]
"""


async def test_sync_router_branches(gateway: Gateway) -> None:
    await gateway.apply(ROUTER)
    first = await gateway.post("router", json={"kind": "a"})
    second = await gateway.post("router", json={"kind": "b"})
    assert (first.status_code, first.json()) == (201, {"kind": "a"})
    assert (second.status_code, second.text) == (202, "other")
    rows = await gateway.executions("router")
    assert {r["id"] for r in rows} == {
        first.headers["x-execution-id"],
        second.headers["x-execution-id"],
    }
