"""Workflows over GraphQL (docs/api.md): create in one mutation, read, list, update, delete and
apply documents — through the same validation and versioning as `gateway apply`."""

from __future__ import annotations

import base64
import re
from typing import Any

from gateway.store.models import WorkflowVersion
from tests.api.client import Statements, call, create, data, error
from tests.support import Gateway

PASSWORD = "shop-hook-password-1"
SIGNING_SECRET = "github-signing-secret-1"
ORDERS: dict[str, Any] = {
    "key": "orders",
    "title": "Orders",
    "sync": True,
    "trigger": {
        "basicAuthentication": {"username": "shop", "password": PASSWORD},
        "request": {
            "headers": [{"key": "x-shop"}],
            "body": [{"key": "order.id", "alias": "Order", "required": True, "type": "integer"}],
        },
    },
    "nodes": [
        {
            "key": "big",
            "type": "condition",
            "config": {
                "rejectOnFalse": False,
                "calculation": {
                    "group": {
                        "type": "and",
                        "calculations": [
                            {"calculator": "gt", "operands": ["{{$context.body.order.total}}", 100]}
                        ],
                    }
                },
            },
        },
        {
            "key": "vip",
            "type": "response",
            "upstream": "big",
            "branchIndex": 1,
            "config": {"statusCode": 201, "body": {"vip": "{{$context.body.order.id}}"}},
        },
        {
            "key": "normal",
            "type": "response",
            "upstream": "big",
            "branchIndex": 0,
            "config": {"statusCode": 200, "body": {"ok": True}},
        },
    ],
}
BASIC = {"authorization": "Basic " + base64.b64encode(f"shop:{PASSWORD}".encode()).decode()}
WORKFLOW = """
query One($id: ID, $key: String) {
  workflow(id: $id, key: $key) {
    id key title version enabled document
    trigger { key url basicAuthentication { enabled username } options
              response { statusCode headers { name value } body }
              parseRules { id source key alias var required type } }
    nodes { id key type title config upstream branchIndex }
  }
}
"""
LIST = """
query List($enabled: Boolean, $first: Int!, $after: String) {
  workflows(enabled: $enabled, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { key } }
  }
}
"""
UPDATE = """
mutation Update($id: ID!, $input: UpdateWorkflowInput!) {
  updateWorkflow(id: $id, input: $input) { version enabled title nodes { key } }
}
"""
CREATE = "mutation($i: WorkflowInput!) { createWorkflow(input: $i) { id } }"
APPLY = """
mutation Apply($documents: [JSON!]!, $prune: Boolean!, $dryRun: Boolean!) {
  applyWorkflows(documents: $documents, prune: $prune, dryRun: $dryRun) {
    action key version previousVersion changed url workflow { key version }
  }
}
"""


def path_of(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


def doc(**changes: Any) -> dict[str, Any]:
    return {**ORDERS, **changes}


async def test_a_script_creates_a_working_webhook_workflow_in_one_mutation(
    gateway: Gateway,
) -> None:
    created = await create(gateway, ORDERS)
    assert (created["key"], created["version"], created["sync"]) == ("orders", 1, True)
    assert [n["key"] for n in created["nodes"]] == ["big", "normal", "vip"]  # canonical order
    url = path_of(created["trigger"]["url"])
    answer = await gateway.client.post(
        url, json={"order": {"id": "7", "total": 250}}, headers=BASIC
    )
    assert (answer.status_code, answer.json()) == (201, {"vip": 7})
    assert (await gateway.client.post(url, json={"order": {"id": 7}})).status_code == 401


async def test_read_by_id_or_key_without_secrets(gateway: Gateway) -> None:
    signed = doc(
        trigger={**ORDERS["trigger"], "signature": {"preset": "github", "secret": SIGNING_SECRET}}
    )
    created = await create(gateway, signed)
    by_id = await call(gateway, WORKFLOW, id=created["id"])
    by_key = await call(gateway, WORKFLOW, key="orders")
    assert by_id == by_key
    workflow = by_id["data"]["workflow"]
    assert workflow["trigger"]["basicAuthentication"] == {"enabled": True, "username": "shop"}
    assert workflow["trigger"]["options"] == {"signature": {"preset": "github"}}
    assert workflow["trigger"]["parseRules"][1] == {
        "id": workflow["trigger"]["parseRules"][1]["id"],
        "source": "BODY",
        "key": "order.id",
        "alias": "Order",
        "var": None,
        "required": True,
        "type": "integer",
    }
    text = str(by_id)
    for secret in (PASSWORD, SIGNING_SECRET, "hmac-sha256$", "encrypted", "passwordHash"):
        assert secret not in text
    assert (await data(gateway, WORKFLOW, key="nope"))["workflow"] is None
    both = await error(gateway, WORKFLOW, id=created["id"], key="orders")
    assert both["extensions"]["code"] == "BAD_USER_INPUT"


async def test_list_pages_with_cursors_and_a_filter(gateway: Gateway) -> None:
    await gateway.apply(*[{"key": f"w{i}", "enabled": i % 2 == 0} for i in range(5)])
    first = (await data(gateway, LIST, first=2))["workflows"]
    assert [e["node"]["key"] for e in first["edges"]] == ["w0", "w1"]
    assert (first["totalCount"], first["pageInfo"]["hasNextPage"]) == (5, True)
    rest = (await data(gateway, LIST, first=10, after=first["pageInfo"]["endCursor"]))["workflows"]
    assert [e["node"]["key"] for e in rest["edges"]] == ["w2", "w3", "w4"]
    assert rest["pageInfo"] == {"hasNextPage": False, "endCursor": rest["edges"][-1]["cursor"]}
    enabled = (await data(gateway, LIST, enabled=True, first=10))["workflows"]
    assert [e["node"]["key"] for e in enabled["edges"]] == ["w0", "w2", "w4"]
    assert enabled["totalCount"] == 3
    bad = await error(gateway, LIST, first=10, after="bm90LWEtY3Vyc29y")
    assert (bad["extensions"]["code"], bad["extensions"]["field"]) == ("BAD_USER_INPUT", "after")


INVALID: list[tuple[dict[str, Any], str, str]] = [
    # (what the document changes, the field reported, words of the message)
    ({"key": "no spaces"}, "key", "letters, digits"),
    ({"options": {"timeout": 0}}, "options.timeout", "milliseconds"),
    ({"nodes": [{"key": "x", "type": "teleport"}]}, "nodes[x].type", "unknown node type"),
    (
        {"trigger": {"request": {"body": [{"key": "a..b"}]}}},
        "trigger.request.body[0].key",
        "invalid path",
    ),
    (
        {"trigger": {"request": {"query": [{"key": "page", "type": "date"}]}}},
        "trigger.request.query[0].type",
        "must be one of",
    ),
    (
        {"nodes": [{"key": "r", "type": "response", "config": {"statusCode": 99}}]},
        "nodes[r].config.statusCode",
        "200 to 599",
    ),
    (
        {"trigger": {"basicAuthentication": {"username": "a"}}},
        "trigger.basicAuthentication.password",
        "required",
    ),
]


async def test_problems_name_their_fields_and_keys_are_unique(gateway: Gateway) -> None:
    for changes, field, words in INVALID:
        problem = await error(gateway, CREATE, i=doc(**changes))
        assert problem["extensions"]["code"] == "BAD_USER_INPUT"
        assert problem["extensions"]["field"] == field
        assert words in problem["extensions"]["problems"][0]["message"]
    assert (await data(gateway, LIST, first=1))["workflows"]["totalCount"] == 0
    broken = doc(key="bad key", options={"keepExecutions": "sometimes"})
    problem = await error(gateway, CREATE, i=broken)
    fields = {p["field"] for p in problem["extensions"]["problems"]}
    assert fields == {"key", "options.keepExecutions"}
    assert problem["message"].startswith("2 problems; nothing was changed")
    await create(gateway, ORDERS)
    again = await error(gateway, CREATE, i=ORDERS)
    assert again["extensions"]["code"] == "CONFLICT"


async def test_update_bumps_the_version_only_when_what_runs_changes(gateway: Gateway) -> None:
    created = await create(gateway, ORDERS)
    wid = created["id"]
    renamed = await data(gateway, UPDATE, id=wid, input={"title": "Shop orders", "enabled": False})
    assert renamed["updateWorkflow"] == {
        "version": 1,
        "enabled": False,
        "title": "Shop orders",
        "nodes": [{"key": "big"}, {"key": "normal"}, {"key": "vip"}],
    }
    url = path_of(created["trigger"]["url"])
    assert (
        await gateway.client.post(url, json={"order": {"id": 1}}, headers=BASIC)
    ).status_code == 404
    nodes = [{"key": "only", "type": "response", "config": {"statusCode": 204}}]
    changed = await data(gateway, UPDATE, id=wid, input={"enabled": True, "nodes": nodes})
    assert changed["updateWorkflow"]["version"] == 2
    assert (
        await gateway.client.post(url, json={"order": {"id": 1}}, headers=BASIC)
    ).status_code == 204
    assert await WorkflowVersion.filter(workflow_id=int(wid)).count() == 2
    refused = await error(gateway, UPDATE, id=wid, input={"key": "renamed"})
    assert (refused["extensions"]["code"], refused["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "key",
    )
    missing = await error(gateway, UPDATE, id="999", input={"title": "x"})
    assert missing["extensions"]["code"] == "NOT_FOUND"


async def test_delete_a_workflow(gateway: Gateway) -> None:
    created = await create(gateway, ORDERS)
    delete = "mutation($id: ID!) { deleteWorkflow(id: $id) }"
    assert await data(gateway, delete, id=created["id"]) == {"deleteWorkflow": created["id"]}
    assert (await data(gateway, WORKFLOW, id=created["id"]))["workflow"] is None
    assert (await error(gateway, delete, id=created["id"]))["extensions"]["code"] == "NOT_FOUND"
    assert (await error(gateway, delete, id="abc"))["extensions"]["code"] == "BAD_USER_INPUT"


NESTED = {
    "key": "router",
    "sync": True,
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
                            {"calculator": "equal", "operands": ["{{$context.query.kind}}", "a"]}
                        ],
                    }
                },
            },
            "branches": {
                "1": [{"key": "a", "type": "response", "config": {"statusCode": 201}}],
                "0": [{"key": "b", "type": "response", "config": {"statusCode": 202}}],
            },
        },
    ],
}


async def test_apply_documents_as_the_cli_does(gateway: Gateway) -> None:
    await create(gateway, ORDERS)
    dry = await data(gateway, APPLY, documents=[NESTED], prune=True, dryRun=True)
    assert [(c["action"], c["key"], c["url"]) for c in dry["applyWorkflows"]] == [
        ("create", "router", None),
        ("delete", "orders", None),
    ]
    applied = (await data(gateway, APPLY, documents=[NESTED], prune=False, dryRun=False))[
        "applyWorkflows"
    ]
    [change] = applied
    assert (change["action"], change["version"], change["workflow"]) == (
        "create",
        1,
        {"key": "router", "version": 1},
    )
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/api/webhook:trigger/[\w-]{32}", change["url"])
    answer = await gateway.client.post(path_of(change["url"]) + "?kind=a")
    assert answer.status_code == 201
    again = (await data(gateway, APPLY, documents=[NESTED], prune=True, dryRun=False))[
        "applyWorkflows"
    ]
    assert [(c["action"], c["key"]) for c in again] == [
        ("unchanged", "router"),
        ("delete", "orders"),
    ]
    literal = {**NESTED, "title": "${HOME}"}  # GraphQL documents never read the environment
    await data(gateway, APPLY, documents=[literal], prune=False, dryRun=False)
    assert (await data(gateway, WORKFLOW, key="router"))["workflow"]["title"] == "${HOME}"
    broken = await error(
        gateway, APPLY, documents=[{"key": "x", "nodes": "no"}], prune=False, dryRun=False
    )
    assert broken["extensions"]["problems"] == [
        {"field": "nodes", "message": "must be a list of nodes", "workflow": "x"}
    ]


SEARCH = """
query Search($search: String, $sync: Boolean) {
  workflows(search: $search, sync: $sync, first: 50) { totalCount edges { node { key } } }
}
"""


async def test_search_and_sync_filters_narrow_the_list_and_its_count(gateway: Gateway) -> None:
    await gateway.apply(
        {"key": "stripe-payments", "title": "Stripe", "sync": True},
        {"key": "github", "title": "GitHub PAYMENTS relay"},
        {"key": "shop", "description": "orders paid at 100% (not 10_0)"},
        {"key": "chat", "title": "Slack", "sync": True},
    )

    async def keys(**variables: Any) -> tuple[list[str], int]:
        found = (await data(gateway, SEARCH, **variables))["workflows"]
        return [e["node"]["key"] for e in found["edges"]], found["totalCount"]

    # (filter, keys found): key, title and description, in any case
    assert await keys(search="payment") == (["stripe-payments", "github"], 2)
    assert await keys(search="PAID") == (["shop"], 1)
    assert await keys(search="100%") == (["shop"], 1)  # % and _ are text, not wildcards
    assert await keys(search="10_0") == (["shop"], 1)
    assert await keys(search="0%_") == ([], 0)
    assert await keys(sync=True) == (["stripe-payments", "chat"], 2)
    assert await keys(sync=True, search="slack") == (["chat"], 1)
    assert await keys(search="") == (["stripe-payments", "github", "shop", "chat"], 4)
    too_long = await error(gateway, SEARCH, search="x" * 201)
    assert (too_long["extensions"]["code"], too_long["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "search",
    )


LAST = """
{ workflows(first: 50) { edges { node { key lastExecution { id status } } } } }
"""
ECHO = """
key: echo{n}
sync: true
nodes: [{{key: answer, type: response, config: {{statusCode: 200, body: ok}}}}]
"""


async def test_each_listed_workflow_has_its_newest_execution_read_in_one_batch(
    gateway: Gateway, statements: Statements
) -> None:
    await gateway.apply(*[ECHO.format(n=n) for n in range(3)])
    first = (await gateway.post("echo0")).headers["x-execution-id"]
    second = (await gateway.post("echo0")).headers["x-execution-id"]
    other = (await gateway.post("echo2")).headers["x-execution-id"]
    assert first != second

    statements.sql.clear()
    listed = (await data(gateway, LAST))["workflows"]["edges"]
    last = {e["node"]["key"]: e["node"]["lastExecution"] for e in listed}
    assert last == {
        "echo0": {"id": second, "status": "RESOLVED"},
        "echo1": None,
        "echo2": {"id": other, "status": "RESOLVED"},
    }
    newest = [sql for sql in statements.sql if '"executions"' in sql]
    assert len(newest) == 2, newest  # the newest ids of all three, then their rows
