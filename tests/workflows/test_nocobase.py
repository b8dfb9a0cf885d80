"""Workflows written the way NocoBase writes them apply unchanged and behave as NocoBase
does (docs/nocobase.md): the five documents of tests/fixtures/nocobase/, called through
the real app, with what NocoBase's own templates render for the same data compared."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.core.errors import DefinitionInvalid
from gateway.workflows.apply import apply_documents
from gateway.workflows.documents import normalise, read_sources
from tests import reference
from tests.conftest import SettingsFactory
from tests.httpserver import Received, TestServer
from tests.support import GATEWAY_BIN, ROOT, Gateway, running_gateway

FIXTURES = ROOT / "tests" / "fixtures" / "nocobase"
DOCUMENTS = ["orders", "tiers", "labels", "items", "relay"]


def document(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads((FIXTURES / f"{name}.json").read_bytes())
    return loaded


@pytest.fixture
async def target() -> AsyncIterator[TestServer]:
    async with TestServer(host="127.0.0.2") as server:
        yield server


@pytest.fixture
async def nocobase(settings_factory: SettingsFactory, target: TestServer) -> AsyncIterator[Gateway]:
    env = {"RELAY_PASSWORD": "relay-secret-1", "RELAY_TARGET": target.url("/events")}
    settings = settings_factory(outbound_allow=("127.0.0.0/8",), env=env)
    async with running_gateway(settings) as gateway:
        yield gateway


async def apply_files(gateway: Gateway, names: list[str]) -> list[Any]:
    """Apply fixture files as `gateway apply` reads them (with `${NAME}` from the env)."""
    sources, problems = read_sources([str(FIXTURES / f"{n}.json") for n in names])
    assert problems == []
    changes = await apply_documents(sources, gateway.settings)
    gateway.runtime.registry.invalidate()
    return changes


async def test_all_five_nocobase_shaped_workflows_apply(nocobase: Gateway) -> None:
    changes = await apply_files(nocobase, DOCUMENTS)

    assert sorted(c.key for c in changes) == sorted(DOCUMENTS)
    assert {c.action for c in changes} == {"create"}


@pytest.mark.parametrize(
    ("body", "headers", "status", "answer"),
    [
        # total ≥ 100, a known currency, a request id: branch 1
        (
            {"order": {"id": 7, "total": "150", "currency": "EUR"}},
            {"x-request-id": "r1"},
            201,
            {"order": 7, "label": "Order 7 of 150 EUR"},
        ),
        # "99.5" >= 100 is false (numeric text against a number)
        (
            {"order": {"id": 8, "total": "99.5", "currency": "EUR"}},
            {"x-request-id": "r2"},
            202,
            {"order": 8, "small": True},
        ),
        # includes(["EUR", "USD"], "eur") is false: no conversion, case matters
        (
            {"order": {"id": 9, "total": 500, "currency": "eur"}},
            {"x-request-id": "r3"},
            202,
            {"order": 9, "small": True},
        ),
        # no X-Request-Id: undefined != "" is true in JavaScript, so it still passes
        (
            {"order": {"id": 10, "total": 100, "currency": "USD"}},
            {},
            201,
            {"order": 10, "label": "Order 10 of 100 USD"},
        ),
    ],
)
async def test_orders_routes_with_nocobases_calculators(
    nocobase: Gateway, body: Any, headers: dict[str, str], status: int, answer: Any
) -> None:
    await apply_files(nocobase, ["orders"])

    response = await nocobase.post("orders", json=body, headers=headers)

    assert (response.status_code, response.json()) == (status, answer)


@pytest.mark.parametrize(
    ("amount", "answer"),
    [
        (1000, {"gross": 1200, "tier": "gold"}),  # math.js: 1000 * 1.2, a ternary with text
        ("99.99", {"gross": 119.99, "tier": "silver"}),  # numeric text is converted
        (50, {"gross": 60, "tier": "basic"}),  # the false branch
    ],
)
async def test_tiers_computes_with_mathjs(nocobase: Gateway, amount: Any, answer: Any) -> None:
    await apply_files(nocobase, ["tiers"])

    response = await nocobase.post("tiers", json={"amount": amount})

    assert response.json() == answer


async def test_tiers_text_that_is_not_a_number_fails_the_node_as_mathjs_does(
    nocobase: Gateway,
) -> None:
    await apply_files(nocobase, ["tiers"])

    response = await nocobase.post("tiers", json={"amount": "abc"})

    assert response.status_code == 500
    execution = await nocobase.execution(response.headers["x-execution-id"])
    [job] = execution["jobs"]
    assert (job["nodeKey"], job["status"]) == ("gross", "ERROR")
    assert 'Cannot convert "abc" to a number' in str(job["result"])


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (
            {"name": "ada", "tags": ["a", "b", "c"], "vip": True},
            {"label": "ADA-VIP-3"},
        ),  # formula.js
        ({"name": " grace ", "tags": ["x", "y"]}, {"label": "grace (x,y)"}),  # basic .length
        ({"name": "bo", "tags": []}, {"label": None, "count": 0}),  # nothing matched
    ],
)
async def test_labels_routes_with_formulajs(nocobase: Gateway, body: Any, answer: Any) -> None:
    await apply_files(nocobase, ["labels"])

    response = await nocobase.post("labels", json=body)

    assert response.json() == answer


ITEMS = {
    "items": [
        {"sku": "a", "qty": 2, "price": {"amount": 10}},
        {"sku": "b", "qty": 1, "price": {"amount": 500}},
        {"sku": "c", "qty": 3, "price": {"amount": 50}},
    ]
}


async def test_items_answer_is_what_nocobases_templates_render(nocobase: Gateway) -> None:
    await apply_files(nocobase, ["items"])

    response = await nocobase.post("items", json=ITEMS)
    execution = await nocobase.execution(response.headers["x-execution-id"])

    jobs = {job["nodeKey"]: job["result"] for job in execution["jobs"]}  # the latest of each
    template = next(n for n in document("items")["nodes"] if n["key"] == "answer")["config"]["body"]
    scope = {"$context": {"body": ITEMS}, "$jobsMapByNodeKey": jobs}
    [theirs] = reference.run([{"kind": "template", "template": template, "scope": scope}])
    assert response.json() == theirs["value"]
    assert response.json() == {
        "count": 3,
        "skus": ["a", "b", "c"],
        "picked": [
            {"id": "a", "price_amount": 10},
            {"id": "c", "price_amount": 50},
        ],  # NocoBase's aliases
        "last": 150,  # the last iteration's line (its condition failed; exit 2 goes on)
        "loop": {"looped": 3},
        "text": "3 items: a,b,c",  # a list in text: its items joined
    }


async def test_relay_forwards_with_the_request_node(nocobase: Gateway, target: TestServer) -> None:
    await apply_files(nocobase, ["relay"])
    credentials = base64.b64encode(b"relay:relay-secret-1").decode()

    url = await nocobase.url("relay")
    response = await nocobase.client.post(
        f"{url}?channel=ops",
        json={"event": "deploy"},
        headers={"authorization": f"Basic {credentials}", "x-source": "ci"},
    )
    await nocobase.drain()

    assert (response.status_code, response.json()) == (202, {"accepted": True})
    assert response.headers["x-received"] == "deploy"
    [received] = target.received
    assert isinstance(received, Received)
    assert (received.target, received.headers["x-source"]) == ("/events?channel=ops", "ci")
    assert received.json()["event"] == "deploy"
    [execution] = await nocobase.executions("relay")
    assert execution["status"] == "RESOLVED"


async def test_a_nocobase_engine_expression_the_gateway_cannot_run_is_refused_with_the_node_key(
    nocobase: Gateway,
) -> None:
    tiers = document("tiers")
    tiers["nodes"][0]["config"]["expression"] = "{{$context.body.amount}}!"

    with pytest.raises(DefinitionInvalid) as caught:
        await nocobase.apply(tiers)

    [problem] = caught.value.problems
    assert problem.field == "nodes[gross].config.expression"
    assert "factorial is not supported" in problem.message


# --- gateway import --from nocobase: NocoBase's own records --------------------------------

EXPORT = FIXTURES / "export.json"


def gateway_cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    environ |= {"GATEWAY_CONFIG": "/nonexistent", **env}
    return subprocess.run(
        [GATEWAY_BIN, *args], env=environ, cwd=cwd, capture_output=True, text=True, timeout=30
    )


def test_import_converts_what_it_can_and_reports_every_record(tmp_path: Path) -> None:
    done = gateway_cli(tmp_path, "import", "--from", "nocobase", str(EXPORT), "-o", "out")

    assert done.returncode == 1  # two records could not be converted: it says so
    assert done.stderr.splitlines() == [
        "+ x2k9pzq1m3d",
        "    nodes[fee]: NocoBase's default engine, math.js, written out",
        "    nodes[itemCheck]: $scopes.104 → $scopes.each (by node key)",
        "    options.deleteExecutionOnStatus [1]: keepExecutions: failed",
        "    options.stackLimit dropped: a webhook cannot trigger itself",
        "- x2k9pzq1m3d",
        "    version 9 skipped: not current",
        "! a7h2v0c8rkl",
        "    not converted: nodes[save].type: 'create': it works on NocoBase's database, which the gateway does not have",
        "! k3l0t6a2nzw",
        "    not converted: type: a 'schedule' workflow: only webhook workflows can be imported",
        "converted 1 workflow(s); 2 could not be converted",
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x2k9pzq1m3d.yaml"]


def test_an_imported_password_is_left_to_the_environment(tmp_path: Path) -> None:
    record = orjson.loads(EXPORT.read_bytes())["data"][2]
    record["nodes"] = []  # without its database node it converts
    (tmp_path / "crm.json").write_bytes(orjson.dumps(record))

    done = gateway_cli(tmp_path, "import", "--from", "nocobase", "crm.json")

    assert done.returncode == 0, done.stderr
    assert "plain-text-in-nocobase" not in done.stdout + done.stderr
    assert "password: ${A7H2V0C8RKL_PASSWORD}" in done.stdout
    assert (
        "options.deleteExecutionOnStatus [1, -1, -2, -3, -4]: keepExecutions: failed (which keeps every failed execution)"
        in done.stderr
    )


def test_a_config_key_the_gateway_does_not_read_is_dropped_with_a_note(tmp_path: Path) -> None:
    record = orjson.loads(EXPORT.read_bytes())["data"][0]
    node = next(n for n in record["nodes"] if n["type"] == "condition")
    node["config"]["someNocoBaseOnlySetting"] = True
    (tmp_path / "one.json").write_bytes(orjson.dumps(record))

    done = gateway_cli(tmp_path, "import", "--from", "nocobase", "one.json")

    assert done.returncode == 0, done.stderr
    assert (
        f"    nodes[{node['key']}]: config 'someNocoBaseOnlySetting' dropped: no such setting here"
        in done.stderr.splitlines()
    )
    assert "someNocoBaseOnlySetting" not in done.stdout


async def test_an_imported_workflow_applies_and_runs_as_in_nocobase(
    nocobase: Gateway, tmp_path: Path
) -> None:
    done = gateway_cli(tmp_path, "import", "--from", "nocobase", str(EXPORT), "-o", "out")
    sources, problems = read_sources([str(tmp_path / "out")])
    assert problems == [] and done.stderr
    await apply_documents(sources, nocobase.settings)
    nocobase.runtime.registry.invalidate()

    paid = {"payment": {"id": "pay_1", "amount": "100", "items": [{"qty": 1}, {"qty": 2}]}}
    small = {"payment": {"id": "pay_2", "amount": 5, "items": []}}
    first = await nocobase.post("x2k9pzq1m3d", json=paid)
    second = await nocobase.post("x2k9pzq1m3d", json=small)

    assert (first.status_code, first.json()) == (200, {"payment": "pay_1", "fee": 3.2, "items": 2})
    assert (second.status_code, second.json()) == (422, {"error": "amount below 10"})


@pytest.mark.parametrize(
    ("rule", "var", "problems"),
    [
        ({"key": "a", "_var": "body_$0"}, "body_$0", []),  # NocoBase's name for var
        ({"key": "a", "var": "x", "_var": "x"}, "x", []),  # both, agreeing
        (
            {"key": "a", "var": "x", "_var": "y"},
            "x",
            ["trigger.request.body[0]._var"],
        ),  # disagreeing
    ],
)
def test_underscore_var_is_var(rule: dict[str, Any], var: str, problems: list[str]) -> None:
    doc, found = normalise(
        {"key": "w", "trigger": {"basicAuthentication": False, "request": {"body": [rule]}}}
    )

    assert doc["trigger"]["request"]["body"][0]["var"] == var
    assert doc["trigger"]["basicAuthentication"] is None  # NocoBase's false: no authentication
    assert [p.field for p in found] == problems
