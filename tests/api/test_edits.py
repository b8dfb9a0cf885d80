"""Editing one item at a time (docs/api.md, Operations): trigger, trigger key, parse rules
and nodes — each edit re-applies the whole document, so it is validated, versioned and keeps
ids stable."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from tests.api.client import create, data, error
from tests.support import Gateway

HOOK: dict[str, Any] = {
    "key": "hook",
    "sync": True,
    "trigger": {
        "basicAuthentication": {"username": "bot", "password": "first-password"},
        "request": {"body": [{"key": "a"}, {"key": "b"}, {"key": "c"}]},
    },
    "nodes": [
        {
            "key": "check",
            "type": "condition",
            "config": {
                "rejectOnFalse": False,
                "calculation": {
                    "group": {
                        "type": "and",
                        "calculations": [
                            {"calculator": "equal", "operands": ["{{$context.body.a}}", 1]}
                        ],
                    }
                },
            },
        },
        {
            "key": "yes",
            "type": "response",
            "upstream": "check",
            "branchIndex": 1,
            "config": {"statusCode": 201},
        },
        {
            "key": "no",
            "type": "response",
            "upstream": "check",
            "branchIndex": 0,
            "config": {"statusCode": 202},
        },
    ],
}
AUTH = {"authorization": "Basic " + base64.b64encode(b"bot:first-password").decode()}
TRIGGER = "id key url version: workflow { version } basicAuthentication { enabled username } response { statusCode body } parseRules { id source key type }"
RULES = """
mutation Rules($trigger: ID!, $id: ID!, $gone: ID!) {
  created: createParseRule(triggerId: $trigger, input: {source: QUERY, key: "page", type: "integer"}) { id source key type }
  first: createParseRule(triggerId: $trigger, input: {source: BODY, key: "z"}, position: 0) { id key }
  typed: updateParseRule(id: $id, input: {type: "integer", var: "amount"}) { id key type var }
  renamed: updateParseRule(id: $id, input: {key: "amount"}) { id key }
  deleteParseRule(id: $gone) { parseRules { id source key } }
}
"""
NODES = """
mutation Nodes($workflow: ID!, $check: ID!, $no: ID!) {
  createNode(workflowId: $workflow, input: {key: "first", type: "end", config: {endStatus: 1}, upstream: "check", branchIndex: 0}, position: 0) { id key upstream branchIndex }
  updateNode(id: $check, input: {key: "test", title: "The test"}) { id key title }
  deleteNode(id: $no) { version nodes { key upstream branchIndex } }
}
"""


def path_of(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


async def trigger_of(gateway: Gateway, key: str = "hook") -> dict[str, Any]:
    query = f'{{ workflow(key: "{key}") {{ trigger {{ {TRIGGER} }} }} }}'
    trigger: dict[str, Any] = (await data(gateway, query))["workflow"]["trigger"]
    return trigger


async def test_update_the_trigger_and_its_key(gateway: Gateway) -> None:
    created = await create(gateway, HOOK)
    update = f"mutation($w: ID!, $t: TriggerInput!) {{ updateTrigger(workflowId: $w, input: $t) {{ {TRIGGER} }} }}"
    changes = {
        "basicAuthentication": {"username": "bot"},
        "request": {"query": [{"key": "page", "type": "integer"}]},
        "response": {"statusCode": 202},
    }
    trigger = (await data(gateway, update, w=created["id"], t=changes))["updateTrigger"]
    assert trigger["basicAuthentication"] == {"enabled": True, "username": "bot"}
    assert trigger["response"] == {"statusCode": 202, "body": "ok"}
    assert [r["key"] for r in trigger["parseRules"]] == ["page", "a", "b", "c"]  # body kept
    assert trigger["version"] == {"version": 2}
    url = path_of(trigger["url"])
    assert (await gateway.client.post(url, json={"a": 1}, headers=AUTH)).status_code == 201
    opened = await data(gateway, update, w=created["id"], t={"basicAuthentication": None})
    assert opened["updateTrigger"]["basicAuthentication"] == {"enabled": False, "username": None}
    assert (await gateway.client.post(url, json={"a": 1})).status_code == 201
    regenerate = f"mutation($w: ID!) {{ regenerateTriggerKey(workflowId: $w) {{ {TRIGGER} }} }}"
    renewed = (await data(gateway, regenerate, w=created["id"]))["regenerateTriggerKey"]
    assert renewed["key"] != trigger["key"] and len(renewed["key"]) == 32
    assert renewed["version"] == {"version": 3}  # the URL key is not part of what runs
    assert (await gateway.client.post(url, json={"a": 1})).status_code == 404
    assert (await gateway.client.post(path_of(renewed["url"]), json={"a": 1})).status_code == 201


async def test_edits_keep_the_write_only_secrets(gateway: Gateway) -> None:
    signature = {"preset": "github", "secret": "github-hook-secret"}
    created = await create(
        gateway, {**HOOK, "trigger": {**HOOK["trigger"], "signature": signature}}
    )
    add = 'mutation($t: ID!) { createParseRule(triggerId: $t, input: {source: QUERY, key: "q"}) { id } }'
    await data(gateway, add, t=created["trigger"]["id"])  # the whole document is applied again
    body = b'{"a": 1}'
    digest = hmac.new(b"github-hook-secret", body, hashlib.sha256).hexdigest()
    headers = {
        **AUTH,
        "x-hub-signature-256": f"sha256={digest}",
        "content-type": "application/json",
    }
    answer = await gateway.client.post(
        path_of(created["trigger"]["url"]), content=body, headers=headers
    )
    assert answer.status_code == 201  # the stored password and signing secret were kept


async def test_parse_rules_one_at_a_time_keep_their_ids(gateway: Gateway) -> None:
    created = await create(gateway, HOOK)
    a, b, c = created["trigger"]["parseRules"]
    done = await data(gateway, RULES, trigger=created["trigger"]["id"], id=b["id"], gone=a["id"])
    assert done["created"]["source"] == "QUERY" and done["created"]["type"] == "integer"
    assert done["typed"] == {"id": b["id"], "key": "b", "type": "integer", "var": "amount"}
    assert done["renamed"] == {"id": b["id"], "key": "amount"}
    rules = done["deleteParseRule"]["parseRules"]
    assert [(r["source"], r["key"]) for r in rules] == [
        ("QUERY", "page"),
        ("BODY", "z"),
        ("BODY", "amount"),
        ("BODY", "c"),
    ]
    assert {r["id"] for r in rules} == {
        done["created"]["id"],
        done["first"]["id"],
        b["id"],
        c["id"],
    }
    trigger = await trigger_of(gateway)
    assert trigger["version"] == {"version": 6}  # five edits, each a new version
    moved = f'mutation {{ updateParseRule(id: "{c["id"]}", input: {{source: HEADERS}}) {{ id source }} }}'
    assert (await data(gateway, moved))["updateParseRule"] == {"id": c["id"], "source": "HEADERS"}
    bad = 'mutation($id: ID!) { updateParseRule(id: $id, input: {type: "date", key: "x["}) { id } }'
    problem = await error(gateway, bad, id=b["id"])
    assert problem["extensions"]["code"] == "BAD_USER_INPUT"
    assert {p["field"] for p in problem["extensions"]["problems"]} == {
        "trigger.request.body[1].key",
        "trigger.request.body[1].type",
    }
    assert (await trigger_of(gateway))["version"] == {"version": 7}  # nothing changed
    gone = await error(gateway, 'mutation { deleteParseRule(id: "999") { id } }')
    assert gone["extensions"]["code"] == "NOT_FOUND"


async def test_nodes_one_at_a_time(gateway: Gateway) -> None:
    created = await create(gateway, HOOK)
    ids = {n["key"]: n["id"] for n in created["nodes"]}
    done = await data(gateway, NODES, workflow=created["id"], check=ids["check"], no=ids["no"])
    assert done["createNode"]["upstream"] == "check" and done["createNode"]["branchIndex"] == 0
    assert done["updateNode"] == {"id": ids["check"], "key": "test", "title": "The test"}
    assert done["deleteNode"]["nodes"] == [
        {"key": "test", "upstream": None, "branchIndex": None},
        {"key": "first", "upstream": "test", "branchIndex": 0},  # its branch followed the rename
        {"key": "yes", "upstream": "test", "branchIndex": 1},
    ]
    url = path_of(created["trigger"]["url"])
    answer = await gateway.client.post(url, json={"a": 2}, headers=AUTH)
    assert answer.json()["status"] == "RESOLVED"  # the end node on branch 0 ran


async def test_moving_and_deleting_nodes(gateway: Gateway) -> None:
    created = await create(gateway, HOOK)
    ids = {n["key"]: n["id"] for n in created["nodes"]}
    move = "mutation($id: ID!) { updateNode(id: $id, input: {upstream: null}, position: 0) { workflow { nodes { key } } } }"
    moved = await data(gateway, move, id=ids["yes"])
    assert [n["key"] for n in moved["updateNode"]["workflow"]["nodes"]] == ["yes", "check", "no"]
    echo = {"key": "echo", "type": "response", "config": {"body": "{{$jobsMapByNodeKey.check}}"}}
    add = "mutation($w: ID!, $n: NodeInput!) { createNode(workflowId: $w, input: $n) { id } }"
    echo_id = (await data(gateway, add, w=created["id"], n=echo))["createNode"]["id"]
    delete = "mutation($id: ID!) { deleteNode(id: $id) { nodes { key } } }"
    problem = await error(gateway, delete, id=ids["check"])
    assert problem["extensions"]["field"] == "nodes[echo].config"  # echo reads check's result
    await data(gateway, delete, id=echo_id)
    left = await data(gateway, delete, id=ids["check"])
    assert left["deleteNode"]["nodes"] == [{"key": "yes"}]  # check's branch went with it


ROUND_TRIP = {
    "key": "signup",
    "trigger": {"request": {"body": [{"key": "user.email", "var": "email"}]}},
    "nodes": [{"key": "done", "type": "end", "config": {"endStatus": 1}}],
}
EXECUTIONS = """
query($w: ID!) { executions(workflowId: $w) { totalCount edges { node {
  status version context jobs { nodeKey status } } } } }
"""


async def test_round_trip_create_call_inspect_edit_call(gateway: Gateway) -> None:
    created = await create(gateway, ROUND_TRIP)
    url = path_of(created["trigger"]["url"])
    first = await gateway.client.post(url, json={"user": {"email": "a@example.com", "id": "42"}})
    assert (first.status_code, first.text) == (200, "ok")
    await gateway.drain()
    [run] = (await data(gateway, EXECUTIONS, w=created["id"]))["executions"]["edges"]
    assert run["node"]["status"] == "RESOLVED" and run["node"]["version"] == 1
    assert run["node"]["context"]["body"]["email"] == "a@example.com"
    assert run["node"]["jobs"] == [{"nodeKey": "done", "status": "RESOLVED"}]
    [rule] = created["trigger"]["parseRules"]
    edit = 'mutation($id: ID!) { updateParseRule(id: $id, input: {key: "user.id", var: "uid", type: "integer", required: true}) { id } }'
    await data(gateway, edit, id=rule["id"])
    refused = await gateway.client.post(url, json={"user": {"email": "b@example.com"}})
    assert refused.status_code == 400 and refused.json()["details"][0]["key"] == "user.id"
    second = await gateway.client.post(url, json={"user": {"id": "43"}})
    assert second.status_code == 200
    await gateway.drain()
    runs = (await data(gateway, EXECUTIONS, w=created["id"]))["executions"]
    assert runs["totalCount"] == 2
    newest = runs["edges"][0]["node"]
    assert (newest["version"], newest["context"]["body"]["uid"]) == (2, 43)
