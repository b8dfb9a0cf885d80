"""Validating and applying workflow documents: `prepare` (pure) and `apply_documents` (store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.core.errors import DefinitionInvalid, Problem
from gateway.core.settings import Settings
from gateway.store import definitions
from gateway.store.models import WorkflowVersion
from gateway.workflows.apply import Change, apply_documents, prepare
from gateway.workflows.documents import DocumentLoader, Source, read_sources
from gateway.workflows.export import dump_yaml, export_documents
from tests.conftest import SettingsFactory
from tests.support import PAYLOADS, Gateway, make_settings, running_gateway

FIXTURES = PAYLOADS / "documents"
SETTINGS = make_settings("sqlite://:memory:", template_env=("REGION",))


def sources(*documents: str) -> list[Source]:
    return [
        Source(f"doc{i}.yaml", yaml.load(text, Loader=DocumentLoader))
        for i, text in enumerate(documents)
    ]


def problems_of(*documents: str, settings: Settings = SETTINGS) -> list[Problem]:
    with pytest.raises(DefinitionInvalid) as caught:
        prepare(sources(*documents), settings)
    return caught.value.problems


async def apply(
    settings: Settings, *documents: str, prune: bool = False, dry_run: bool = False
) -> list[str]:
    changes = await apply_documents(sources(*documents), settings, prune=prune, dry_run=dry_run)
    return [change.describe() for change in changes]


async def stored(key: str) -> dict[str, Any]:
    [doc] = await definitions.load_documents([key])
    return doc


async def snapshots(key: str) -> list[tuple[int, dict[str, Any]]]:
    rows = await WorkflowVersion.filter(workflow__key=key).order_by("version")
    return [(row.version, row.definition) for row in rows]


# --- validation -------------------------------------------------------------------------

RESPOND = "{key: ok, type: response, config: {statusCode: 200}}"
BRANCHING = "{key: check, type: condition, config: {rejectOnFalse: false}}"


@pytest.mark.parametrize(
    ("document", "field", "message"),
    [
        # workflow key with a space
        ("key: bad key\nsync: true", "key", "letters, digits"),
        # unknown workflow field, with the allowed ones as hint
        ("key: wf\ncolour: red", "colour", "unknown field"),
        # unknown node field
        (
            "key: wf\nsync: true\nnodes: [{key: ok, type: end, colour: 1}]",
            "nodes[ok].colour",
            "unknown field",
        ),
        # unknown node type
        (
            "key: wf\nnodes: [{key: go, type: teleport}]",
            "nodes[go].type",
            "unknown node type 'teleport'",
        ),
        # node without a key
        ("key: wf\nnodes: [{type: end}]", "nodes[0].key", "required"),
        # duplicate node keys
        (
            "key: wf\nnodes: [{key: a, type: end}, {key: a, type: end}]",
            "nodes[a].key",
            "duplicate node key",
        ),
        # upstream that is not (yet) a node: branching nodes come first
        (
            f"key: wf\nsync: true\nnodes: [{{key: a, type: end, upstream: check, branchIndex: 1}}, {BRANCHING}]",
            "nodes[a].upstream",
            "not an earlier node",
        ),
        # upstream that does not branch
        (
            "key: wf\nnodes: [{key: a, type: end}, {key: b, type: end, upstream: a}]",
            "nodes[b].upstream",
            "has no branches",
        ),
        # a condition that rejects on false has no branches either
        (
            "key: wf\nnodes: [{key: c, type: condition}, {key: b, type: end, upstream: c, branchIndex: 1}]",
            "nodes[b].upstream",
            "has no branches",
        ),
        # branch index the condition does not have
        (
            f"key: wf\nnodes: [{BRANCHING}, {{key: b, type: end, upstream: check, branchIndex: 2}}]",
            "nodes[b].branchIndex",
            "has branches 0, 1",
        ),
        # branch index missing under a branching upstream
        (
            f"key: wf\nnodes: [{BRANCHING}, {{key: b, type: end, upstream: check}}]",
            "nodes[b].branchIndex",
            "has branches 0, 1",
        ),
        # branch index without an upstream
        (
            "key: wf\nnodes: [{key: b, type: end, branchIndex: 1}]",
            "nodes[b].branchIndex",
            "only for nodes with an upstream",
        ),
        # response node in an async workflow
        (
            f"key: wf\nsync: false\nnodes: [{RESPOND}]",
            "nodes[ok].type",
            "only work in sync workflows",
        ),
        # status code out of range
        (
            "key: wf\nsync: true\nnodes: [{key: ok, type: response, config: {statusCode: 700}}]",
            "nodes[ok].config.statusCode",
            "200 to 599",
        ),
        # unknown calculator, with the valid ones as hint
        (
            "key: wf\nnodes: [{key: c, type: condition, config: {calculation: {calculator: same, operands: [1, 1]}}}]",
            "nodes[c].config.calculation.calculator",
            "unknown calculator 'same'",
        ),
        # calculation with one operand
        (
            "key: wf\nnodes: [{key: c, type: condition, config: {calculation: {calculator: equal, operands: [1]}}}]",
            "nodes[c].config.calculation.operands",
            "list of 2",
        ),
        # unknown engine
        (
            "key: wf\nnodes: [{key: c, type: condition, config: {engine: js}}]",
            "nodes[c].config.engine",
            "unknown engine",
        ),
        # end status other than 1 / -1
        (
            "key: wf\nnodes: [{key: e, type: end, config: {endStatus: 2}}]",
            "nodes[e].config.endStatus",
            "1 (RESOLVED) or -1",
        ),
        # bad template path
        (
            'key: wf\nsync: true\nnodes: [{key: ok, type: response, config: {body: "{{$context.body..id}}"}}]',
            "nodes[ok].config.body",
            "bad placeholder",
        ),
        # unknown template root
        (
            'key: wf\nsync: true\nnodes: [{key: ok, type: response, config: {body: "{{$request.id}}"}}]',
            "nodes[ok].config.body",
            "unknown root '$request'",
        ),
        # a node's result used before the node runs
        (
            'key: wf\nsync: true\nnodes: [{key: ok, type: response, config: {body: "{{$jobsMapByNodeKey.later.x}}"}}, {key: later, type: end}]',
            "nodes[ok].config",
            "does not name a node that runs earlier",
        ),
        # a node that does not exist
        (
            'key: wf\nsync: true\nnodes: [{key: ok, type: response, config: {body: "{{$jobsMapByNodeKey.ghost}}"}}]',
            "nodes[ok].config",
            "does not name a node that runs earlier",
        ),
        # $env name not listed in the settings (template_env)
        (
            'key: wf\nsync: true\nnodes: [{key: ok, type: response, config: {body: "{{$env.SECRET}}"}}]',
            "nodes[ok].config",
            "$env.SECRET is not an allowed",
        ),
        # $env name in the trigger's async answer
        (
            'key: wf\ntrigger: {response: {body: "{{$env.SECRET}}"}}',
            "trigger.response",
            "$env.SECRET is not an allowed",
        ),
        # node results are not there yet when an async call is answered
        (
            'key: wf\ntrigger: {response: {body: "{{$jobsMapByNodeKey.a}}"}}\nnodes: [{key: a, type: end}]',
            "trigger.response",
            "not available",
        ),
        # keepExecutions none on an async workflow
        ("key: wf\noptions: {keepExecutions: none}", "options.keepExecutions", "none is for sync"),
        # keepExecutions not one of the three
        (
            "key: wf\noptions: {keepExecutions: some}",
            "options.keepExecutions",
            "all, failed or none",
        ),
        # unknown option
        ("key: wf\noptions: {retries: 3}", "options.retries", "unknown option"),
        # a misspelled option, with the one meant
        (
            "key: wf\noptions: {maxOutbund: 2}",
            "options.maxOutbund",
            "unknown option (did you mean maxOutbound?)",
        ),
        # a bound on calls in flight of zero
        ("key: wf\noptions: {maxOutbound: 0}", "options.maxOutbound", "1 to 1000"),
        # a bound on calls in flight as text
        ("key: wf\noptions: {maxOutbound: many}", "options.maxOutbound", "1 to 1000"),
        # timeout of zero
        ("key: wf\noptions: {timeout: 0}", "options.timeout", "milliseconds"),
        # timeout as text
        ("key: wf\noptions: {timeout: 5s}", "options.timeout", "milliseconds"),
        # onWorkerLost not rerun / error
        ("key: wf\noptions: {onWorkerLost: retry}", "options.onWorkerLost", "rerun or error"),
        # sync as text (YAML 1.2: `yes` is not a boolean)
        ("key: wf\nsync: yes", "sync", "true or false"),
        # pinned trigger key shorter than 22 characters
        ("key: wf\ntrigger: {key: abcdefghijklmnopqrstu}", "trigger.key", "22 to 128"),
        # pinned trigger key with characters that are not URL-safe
        ("key: wf\ntrigger: {key: abcdefghijklmnopqrstu/v}", "trigger.key", "URL-safe"),
        # basic auth without a username
        (
            "key: wf\ntrigger: {basicAuthentication: {password: x}}",
            "trigger.basicAuthentication.username",
            "required",
        ),
        # basic auth with an empty password
        (
            "key: wf\ntrigger: {basicAuthentication: {username: u, password: ''}}",
            "trigger.basicAuthentication.password",
            "non-empty",
        ),
        # parse rule with an unknown type
        (
            "key: wf\ntrigger: {request: {body: [{key: id, type: uuid}]}}",
            "trigger.request.body[0].type",
            "must be one of",
        ),
        # parse rule with a bad path
        (
            "key: wf\ntrigger: {request: {query: ['a..b']}}",
            "trigger.request.query[0].key",
            "expected a key",
        ),
        # trigger answer with a bad status code
        (
            "key: wf\ntrigger: {response: {statusCode: 99}}",
            "trigger.response.statusCode",
            "200 to 599",
        ),
        # environment variable that is not set
        (
            'key: wf\ndescription: "${GATEWAY_TEST_UNSET}"',
            "description",
            "environment variable GATEWAY_TEST_UNSET is not set",
        ),
        # misspelled node config key: would be ignored, answering an empty 200
        (
            "key: wf\nsync: true\nnodes: [{key: ok, type: response, config: {bdy: {}}}]",
            "nodes[ok].config.bdy",
            "unknown field (did you mean body?)",
        ),
        (
            "key: wf\nsync: true\nnodes: [{key: ok, type: response, config: {status: 200}}]",
            "nodes[ok].config.status",
            "unknown field (did you mean statusCode?)",
        ),
        # a $context field that does not exist: would render null at every call
        (
            'key: wf\nsync: true\nnodes: [{key: ok, type: response, config: {body: "{{$context.bdy.id}}"}}]',
            "nodes[ok].config",
            "$context has no 'bdy' (did you mean $context.body?)",
        ),
        (
            'key: wf\ntrigger: {response: {body: "{{$context.heders.x}}"}}',
            "trigger.response",
            "did you mean $context.headers?",
        ),
        (
            'key: wf\ntrigger: {deduplicate: {key: "{{$context.bdy.id}}"}}',
            "trigger.deduplicate.key",
            "did you mean $context.body?",
        ),
        # misspelled trigger options
        (
            "key: wf\ntrigger: {deduplicate: {key: '{{$context.body.id}}', windw: 60}}",
            "trigger.deduplicate.windw",
            "unknown field (did you mean window?)",
        ),
        (
            "key: wf\ntrigger: {rateLimit: {rate: 1, per: 60, brst: 2}}",
            "trigger.rateLimit.brst",
            "did you mean burst?",
        ),
        (
            "key: wf\ntrigger: {requst: {}}",
            "trigger.requst",
            "did you mean request?",
        ),
        # a response node in a workflow without `sync`
        (
            "key: wf\nnodes: [{key: ok, type: response}]",
            "nodes[ok].type",
            "response nodes only work in sync workflows",
        ),
    ],
)
def test_each_problem_names_workflow_and_field(document: str, field: str, message: str) -> None:
    problems = problems_of(document)
    matching = [p for p in problems if p.field == field and message in p.message]
    assert matching, problems
    key = yaml.load(document, Loader=DocumentLoader)["key"]
    assert all(p.workflow == key for p in problems)


def test_an_invalid_key_is_not_called_missing() -> None:
    [problem] = problems_of("key: 'bad key!'")
    assert (problem.field, problem.message) == (
        "key",
        "'bad key!' is not 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit",
    )
    [missing] = [p for p in problems_of("title: no key") if p.field == "key"]
    assert missing.message.startswith("required: ")


def test_the_sync_problem_says_the_default() -> None:
    [problem] = problems_of("key: wf\nnodes: [{key: ok, type: response}]")
    assert problem.hint == "`sync` defaults to false: add `sync: true` to the workflow"


def test_yaml_errors_name_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("key: wf\nnodes:\n  - {key: a, type: end\n")
    _, [problem] = read_sources([str(path)])
    assert problem.field == str(path)
    assert f'in "{path}", line 3, column' in problem.message
    assert "<unicode string>" not in problem.message


@pytest.mark.parametrize(
    "document",
    [
        # $env name the settings allow
        'key: wf\nsync: true\nnodes: [{key: ok, type: response, config: {body: "{{$env.REGION}}"}}]',
        # a node's result after it ran
        f'key: wf\nsync: true\nnodes: [{BRANCHING}, {{key: ok, type: response, upstream: check, branchIndex: 1, config: {{body: "{{{{$jobsMapByNodeKey.check}}}}"}}}}]',
        # keepExecutions none on a sync workflow
        "key: wf\nsync: true\noptions: {keepExecutions: none, timeout: 1000, onWorkerLost: error}",
        # pinned trigger key of exactly 22 URL-safe characters
        "key: wf\ntrigger: {key: abcdefghij_ABCDEFGHI-0}",
        # node keys YAML 1.1 would read as booleans
        "key: wf\nnodes: [{key: yes, type: end}, {key: off, type: end}]",
    ],
)
def test_valid_documents(document: str) -> None:
    [doc] = prepare(sources(document), SETTINGS)
    assert doc["key"] == "wf"


def test_every_problem_of_a_document_is_reported_at_once() -> None:
    [source], _ = read_sources([str(FIXTURES / "invalid.yaml")])
    with pytest.raises(DefinitionInvalid) as caught:
        prepare([source], SETTINGS)
    problems = caught.value.problems
    assert {p.workflow for p in problems} == {"broken"}
    assert sorted(p.field for p in problems) == sorted(
        [
            "colour",
            "options.retries",
            "options.keepExecutions",
            "trigger.key",
            "trigger.response",
            "nodes[a].type",
            "nodes[a].key",
            "nodes[ok].type",
            "nodes[ok].config.statusCode",
            "nodes[ok].config.body",
            "nodes[check].config.calculation.calculator",
            "nodes[lost].upstream",
            "nodes[wrong].branchIndex",
            "nodes[chain].upstream",
            "nodes[early].size",
            "nodes[early].config",
            "nodes[early].config.x",  # end nodes read endStatus only
            "nodes[late].config.endStatus",
            "nodes[late].config.endStatus",  # ${BROKEN_END_STATUS} is not set
        ]
    )
    unknown = next(p for p in problems if p.field == "colour")
    assert unknown.hint is not None and "nodes" in unknown.hint
    node_type = next(p for p in problems if p.field == "nodes[a].type")
    assert node_type.hint is not None and "condition" in node_type.hint


def test_problems_of_every_document_in_a_batch() -> None:
    problems = problems_of("key: one\ncolour: 1", "key: two\nsync: 1", "key: one")
    assert [(p.workflow, p.field) for p in problems] == [
        ("one", "colour"),
        ("two", "sync"),
        ("one", "key"),  # defined twice in the batch
    ]


def test_problems_without_a_key_name_the_source() -> None:
    problems = problems_of("[1, 2]", "title: no key")
    assert [(p.workflow, p.field) for p in problems] == [("doc0.yaml", ""), ("doc1.yaml", "key")]


def test_reference_to_a_sibling_branch_is_a_problem() -> None:
    # `no` runs only when `yes` did not: `yes` never runs earlier than `no`.
    document = f'key: wf\nsync: true\nnodes: [{BRANCHING}, {{key: yes, type: end, upstream: check, branchIndex: 1}}, {{key: no, type: response, upstream: check, branchIndex: 0, config: {{body: "{{{{$jobsMapByNodeKey.yes}}}}"}}}}]'
    problems = problems_of(document)
    assert [p.field for p in problems] == ["nodes[no].config"]


def test_missing_environment_variable_names_its_field() -> None:
    problems = problems_of(
        'key: wf\ntrigger: {basicAuthentication: {username: u, password: "${GATEWAY_TEST_UNSET}"}}'
    )
    assert [p.field for p in problems] == ["trigger.basicAuthentication.password"]


# --- apply --------------------------------------------------------------------------------

ROUTER = """
key: router
title: Router
sync: true
trigger:
  request: {body: [{key: kind}]}
nodes:
  - key: check
    type: condition
    config:
      rejectOnFalse: false
      calculation: {group: {type: and, calculations: [{calculator: equal, operands: ["{{$context.body.kind}}", a]}]}}
    branches:
      "0": [{key: other, type: response, config: {statusCode: 202}}]
      "1": [{key: is_a, type: response, config: {statusCode: 201}}]
"""


async def test_create_then_unchanged(gateway: Gateway) -> None:
    assert await apply(gateway.settings, ROUTER) == ["+ create router (version 1)"]
    assert await apply(gateway.settings, ROUTER) == ["= unchanged router (version 1)"]
    assert [v for v, _ in await snapshots("router")] == [1]


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        ("title: Router", "title: Routes", "title"),  # title
        ("title: Router", "title: Router\ndescription: Routes calls", "description"),  # description
        ("title: Router", "title: Router\nenabled: false", "enabled"),  # switched off
    ],
)
async def test_metadata_change_keeps_the_version(
    gateway: Gateway, old: str, new: str, changed: str
) -> None:
    await apply(gateway.settings, ROUTER)
    assert await apply(gateway.settings, ROUTER.replace(old, new)) == [
        f"~ update router (version 1: {changed})"
    ]
    assert (await stored("router"))["version"] == 1
    assert [v for v, _ in await snapshots("router")] == [1]


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        ("statusCode: 201", "statusCode: 200", "nodes"),  # a node's config
        ('"1": [{key: is_a', '"1": [{key: is_b', "nodes"),  # a node's key
        ("body: [{key: kind}]", "body: [{key: kind, required: true}]", "trigger"),  # parse rule
        ("request: {body: [{key: kind}]}", "request: {headers: [x-kind]}", "trigger"),  # source
        ("sync: true", "sync: true\noptions: {timeout: 1000}", "options"),  # options
    ],
)
async def test_definition_change_bumps_the_version(
    gateway: Gateway, old: str, new: str, changed: str
) -> None:
    await apply(gateway.settings, ROUTER)
    [(_, first)] = await snapshots("router")
    assert await apply(gateway.settings, ROUTER.replace(old, new)) == [
        f"~ update router (version 1 → 2: {changed})"
    ]
    versions = await snapshots("router")
    assert [v for v, _ in versions] == [1, 2]
    assert versions[0][1] == first  # the older snapshot is immutable
    assert versions[1][1] != first
    assert (await stored("router"))["version"] == 2


async def test_sync_change_bumps_the_version(gateway: Gateway) -> None:
    document = "key: plain\nsync: true\nnodes: [{key: done, type: end}]"
    await apply(gateway.settings, document)
    changes = await apply(gateway.settings, document.replace("sync: true", "sync: false"))
    assert changes == ["~ update plain (version 1 → 2: sync)"]
    [(_, old), (_, new)] = await snapshots("plain")
    assert (old["sync"], new["sync"]) == (True, False)


async def test_trigger_key_is_kept_across_applies(gateway: Gateway) -> None:
    await apply(gateway.settings, ROUTER)
    key = (await stored("router"))["trigger"]["key"]
    assert len(key) >= 22
    await apply(gateway.settings, ROUTER.replace("statusCode: 201", "statusCode: 200"))
    assert (await stored("router"))["trigger"]["key"] == key
    response = await gateway.client.post(f"/api/webhook:trigger/{key}", json={"kind": "a"})
    assert response.status_code == 200


async def test_pinned_trigger_key(gateway: Gateway) -> None:
    pinned = "pinned-key-0123456789_ab"
    await apply(gateway.settings, f"key: first\ntrigger: {{key: {pinned}}}")
    assert (await stored("first"))["trigger"]["key"] == pinned
    assert await apply(gateway.settings, "key: first") == ["= unchanged first (version 1)"]
    assert (await stored("first"))["trigger"]["key"] == pinned  # leaving it out keeps it

    with pytest.raises(DefinitionInvalid) as caught:
        await apply(gateway.settings, f"key: second\ntrigger: {{key: {pinned}}}")
    [problem] = caught.value.problems
    assert (problem.workflow, problem.field) == ("second", "trigger.key")
    assert "already used by workflow first" in problem.message
    assert await definitions.load_documents(["second"]) == []


async def test_pinning_a_new_key_updates_without_a_version_bump(gateway: Gateway) -> None:
    await apply(gateway.settings, "key: hook")
    pinned = "a-new-pinned-key-for-hook"
    changes = await apply(gateway.settings, f"key: hook\ntrigger: {{key: {pinned}}}")
    assert changes == ["~ update hook (version 1: trigger key)"]
    assert (await stored("hook"))["trigger"]["key"] == pinned


async def test_prune_deletes_absent_workflows(gateway: Gateway) -> None:
    await apply(gateway.settings, "key: keep", "key: drop")
    assert await apply(gateway.settings, "key: keep") == ["= unchanged keep (version 1)"]
    assert [d["key"] for d in await definitions.load_documents()] == ["keep", "drop"]
    changes = await apply(gateway.settings, "key: keep", prune=True)
    assert changes == ["= unchanged keep (version 1)", "- delete drop"]
    assert [d["key"] for d in await definitions.load_documents()] == ["keep"]


async def test_dry_run_changes_nothing(gateway: Gateway) -> None:
    await apply(gateway.settings, ROUTER, "key: drop")
    before = await definitions.load_documents()
    changes = await apply(
        gateway.settings,
        ROUTER.replace("statusCode: 201", "statusCode: 200"),
        "key: new",
        prune=True,
        dry_run=True,
    )
    assert changes == [
        "~ update router (version 1 → 2: nodes)",
        "+ create new (version 1)",
        "- delete drop",
    ]
    assert await definitions.load_documents() == before
    assert [v for v, _ in await snapshots("router")] == [1]


async def test_batch_with_one_invalid_document_changes_nothing(gateway: Gateway) -> None:
    await apply(gateway.settings, ROUTER)
    before = await definitions.load_documents()
    with pytest.raises(DefinitionInvalid) as caught:
        await apply(
            gateway.settings,
            ROUTER.replace("statusCode: 201", "statusCode: 200"),  # valid update
            "key: fresh",  # valid create
            "key: broken\nnodes: [{key: x, type: teleport}]",
            prune=True,
        )
    assert [p.workflow for p in caught.value.problems] == ["broken"]
    assert await definitions.load_documents() == before


async def test_batch_with_a_taken_pinned_key_changes_nothing(gateway: Gateway) -> None:
    pinned = "pinned-key-0123456789_ab"
    await apply(gateway.settings, f"key: owner\ntrigger: {{key: {pinned}}}")
    with pytest.raises(DefinitionInvalid):
        await apply(gateway.settings, "key: fresh", f"key: thief\ntrigger: {{key: {pinned}}}")
    assert [d["key"] for d in await definitions.load_documents()] == ["owner"]


# --- basic authentication ------------------------------------------------------------------

AUTH = (
    'key: guarded\ntrigger: {basicAuthentication: {username: hook, password: "${HOOK_PASSWORD}"}}'
)
NO_PASSWORD = "key: guarded\ntrigger: {basicAuthentication: {username: hook}}"


async def password_hash() -> str:
    auth = (await stored("guarded"))["trigger"]["basicAuthentication"]
    assert auth["username"] == "hook"
    return str(auth["passwordHash"])


async def test_password_is_stored_hashed(
    settings_factory: SettingsFactory, gateway: Gateway
) -> None:
    settings = settings_factory(env={"HOOK_PASSWORD": "s3cret-one"})
    await apply(settings, AUTH)
    first = await password_hash()
    assert "s3cret-one" not in first

    # the same password keeps its hash: nothing changed
    assert await apply(settings, AUTH) == ["= unchanged guarded (version 1)"]
    assert await password_hash() == first

    # a document without a password keeps the stored one
    assert await apply(settings, NO_PASSWORD) == ["= unchanged guarded (version 1)"]
    assert await password_hash() == first

    # a new password is a definition change
    other = settings_factory(env={"HOOK_PASSWORD": "s3cret-two"})
    assert await apply(other, AUTH) == ["~ update guarded (version 1 → 2: trigger)"]
    assert await password_hash() != first


async def test_basic_auth_without_password_on_create(gateway: Gateway) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        await apply(gateway.settings, NO_PASSWORD)
    [problem] = caught.value.problems
    assert (problem.workflow, problem.field) == ("guarded", "trigger.basicAuthentication.password")
    assert "required" in problem.message
    assert await definitions.load_documents() == []


async def test_store_problems_are_reported_with_document_problems(gateway: Gateway) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        await apply(gateway.settings, NO_PASSWORD + "\ncolour: red")
    assert sorted(p.field for p in caught.value.problems) == [
        "colour",
        "trigger.basicAuthentication.password",
    ]


# --- export round trip ---------------------------------------------------------------------


async def reapply_export(settings: Settings) -> list[Change]:
    text = dump_yaml(await export_documents())
    exported = [Source("export", d) for d in yaml.load_all(text, Loader=DocumentLoader)]
    return await apply_documents(exported, settings)


async def test_export_round_trip_is_unchanged_and_has_no_secrets(
    settings_factory: SettingsFactory, gateway: Gateway
) -> None:
    settings = settings_factory(env={"ORDERS_PASSWORD": "open-sesame"})
    fixtures, _ = read_sources([str(FIXTURES / "orders.yaml"), str(FIXTURES / "events.yaml")])
    await apply_documents(fixtures, settings)
    await apply(settings, ROUTER)

    text = dump_yaml(await export_documents())
    assert "password" not in text.lower()
    assert "open-sesame" not in text
    assert "hmac-sha256" not in text
    assert (await stored("orders"))["trigger"]["key"] in text  # trigger keys are exported

    changes = await reapply_export(settings)
    assert [(c.action, c.key) for c in changes] == [
        ("unchanged", "orders"),
        ("unchanged", "audit"),
        ("unchanged", "ping"),
        ("unchanged", "router"),
    ]


BRANCH_1_FIRST = """
key: spec
sync: true
nodes:
  - key: check
    type: condition
    config: {rejectOnFalse: false}
    branches:
      "1": [{key: ok, type: response, config: {statusCode: 200}}]
      "0": [{key: ignored, type: response, config: {statusCode: 202}}]
"""


@pytest.mark.parametrize(
    "document",
    [
        # branches listed as in the example of docs/documents.md, "1" before "0"
        pytest.param(
            BRANCH_1_FIRST,
            id="branch-1-before-0",
        ),
        # flat form where a main-chain node comes before a branch's node
        pytest.param(
            f"key: flat\nsync: true\nnodes: [{BRANCHING}, {{key: after, type: end}}, {{key: ok, type: end, upstream: check, branchIndex: 1}}]",
            id="flat-order",
        ),
    ],
)
async def test_export_round_trip_whatever_the_node_order(gateway: Gateway, document: str) -> None:
    await apply(gateway.settings, document)
    [change] = await reapply_export(gateway.settings)
    assert change.action == "unchanged"


# --- queued executions run the snapshot they were accepted with ---------------------------

QUEUED = """
key: queued
trigger: {request: {body: [{key: kind}]}}
nodes:
  - key: check
    type: condition
    config:
      rejectOnFalse: false
      calculation: {group: {type: and, calculations: [{calculator: equal, operands: ["{{$context.body.kind}}", a]}]}}
    branches:
      "0": [{key: other, type: end}]
      "1": [{key: is_a, type: end}]
"""


async def test_queued_execution_runs_its_accepted_version(
    settings_factory: SettingsFactory,
) -> None:
    async with running_gateway(settings_factory(executor_concurrency=0)) as idle:
        await idle.apply(QUEUED)
        accepted = await idle.post("queued", json={"kind": "a"})
        assert accepted.status_code == 200
        await idle.apply(QUEUED.replace(", a]", ", b]"))  # version 2: `a` goes to `other`
        later = await idle.post("queued", json={"kind": "a"})
        assert [r["status"] for r in await idle.executions("queued")] == ["QUEUED", "QUEUED"]

    async with running_gateway(settings_factory()) as worker:
        await worker.drain()
        first = await worker.execution(accepted.headers["x-execution-id"])
        second = await worker.execution(later.headers["x-execution-id"])

    assert first["status"] == second["status"] == "RESOLVED"
    assert [j["nodeKey"] for j in first["jobs"]] == ["check", "is_a"]  # version 1
    assert [j["nodeKey"] for j in second["jobs"]] == ["check", "other"]  # version 2


def test_a_node_that_is_its_own_upstream_is_a_problem_not_a_crash() -> None:
    # Found by the GraphQL fuzz test: a cycle once sent validation into endless recursion.
    problems = problems_of(
        "{key: wf, sync: true, nodes: [{key: a, type: end, upstream: a, branchIndex: 1}]}"
    )

    assert [p.field for p in problems] == ["nodes[a].upstream"]
