"""Workflow documents as pure data: reading files, `${NAME}`, the flat and nested node forms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.workflows.documents import (
    DocumentLoader,
    flatten_nodes,
    nest,
    normalise,
    read_sources,
    substitute_env,
)
from tests.support import PAYLOADS

FIXTURES = PAYLOADS / "documents"


def load(text: str) -> Any:
    return yaml.load(text, Loader=DocumentLoader)


def node(key: str, upstream: str | None = None, branch: int | None = None) -> dict[str, Any]:
    kind = "condition" if key == "paid" else "end"
    config = {"rejectOnFalse": False} if kind == "condition" else {}
    return {
        "key": key,
        "type": kind,
        "title": "",
        "config": config,
        "upstream": upstream,
        "branchIndex": branch,
    }


# The canonical flat list every form below must normalise to.
FLAT = [
    node("paid"),
    node("ignored", "paid", 0),
    node("ok", "paid", 1),
    node("thanks", "paid", 1),
    node("after"),
]

NESTED = """
- key: paid
  type: condition
  config: {rejectOnFalse: false}
  branches:
    "0": [{key: ignored, type: end, config: {}}]
    "1": [{key: ok, type: end, config: {}}, {key: thanks, type: end, config: {}}]
- {key: after, type: end, config: {}}
"""


@pytest.mark.parametrize(
    "text",
    [
        # nested `branches` (docs/documents.md, Nodes), branch keys quoted
        NESTED,
        # nested, branch keys as plain YAML integers
        NESTED.replace('"0"', "0").replace('"1"', "1"),
        # flat `upstream` + `branchIndex` (docs/documents.md, Nodes)
        """
        - {key: paid, type: condition, config: {rejectOnFalse: false}}
        - {key: ignored, type: end, upstream: paid, branchIndex: 0}
        - {key: ok, type: end, upstream: paid, branchIndex: 1}
        - {key: thanks, type: end, upstream: paid, branchIndex: 1}
        - {key: after, type: end}
        """,
        # mixed: one branch nested, the other flat
        """
        - key: paid
          type: condition
          config: {rejectOnFalse: false}
          branches: {"0": [{key: ignored, type: end}]}
        - {key: ok, type: end, upstream: paid, branchIndex: 1}
        - {key: thanks, type: end, upstream: paid, branchIndex: 1}
        - {key: after, type: end}
        """,
    ],
)
def test_node_forms_flatten_to_the_same_list(text: str) -> None:
    assert flatten_nodes(load(text)) == (FLAT, [])


def test_nest_is_the_inverse_of_flatten() -> None:
    assert nest(FLAT) == load(NESTED)
    assert flatten_nodes(nest(FLAT)) == (FLAT, [])


def test_nest_keeps_titles_and_leaves_out_empty_ones() -> None:
    flat = [{**node("paid"), "title": "Paid?"}, node("ok", "paid", 1)]
    assert nest(flat) == [
        {
            "key": "paid",
            "type": "condition",
            "title": "Paid?",
            "config": {"rejectOnFalse": False},
            "branches": {"1": [{"key": "ok", "type": "end", "config": {}}]},
        }
    ]


@pytest.mark.parametrize(
    ("nodes", "field", "message"),
    [
        ("{key: a}", "nodes", "must be a list"),  # nodes not a list
        ("[1]", "nodes[0]", "must be a mapping"),  # a node that is not a mapping
        ("[{key: a, type: end, colour: red}]", "nodes[a].colour", "unknown field"),  # unknown
        ("[{key: a, type: end, branches: [1]}]", "nodes[a].branches", "must map"),  # not a map
        ("[{key: a, type: end, branches: {x: []}}]", "nodes[a].branches", "'x' is not"),  # index
        ("[{key: a, type: end, branches: {1: b}}]", "nodes[a].branches.1", "list of nodes"),
    ],
)
def test_structural_node_problems(nodes: str, field: str, message: str) -> None:
    _, problems = flatten_nodes(load(nodes))
    [problem] = problems
    assert problem.field == field
    assert message in problem.message


def test_normalise_fills_defaults() -> None:
    doc, problems = normalise({"key": "hook"})
    assert problems == []
    assert doc == {
        "key": "hook",
        "title": "hook",
        "description": "",
        "enabled": True,
        "sync": False,
        "options": {},
        "trigger": {
            "key": None,
            "basicAuthentication": None,
            "request": {"headers": [], "query": [], "body": []},
            "response": {"statusCode": 200, "headers": [], "body": "ok"},
        },
        "nodes": [],
    }


def test_normalise_completes_parse_rules() -> None:
    doc, problems = normalise(
        {"key": "hook", "trigger": {"request": {"headers": ["x-id"], "body": [{"key": "a.b"}]}}}
    )
    assert problems == []
    rule = {"alias": None, "var": None, "required": False, "type": None}
    assert doc["trigger"]["request"] == {
        "headers": [{"key": "x-id", **rule}],
        "query": [],
        "body": [{"key": "a.b", **rule}],
    }


ENV = {"A": "1", "B": "two", "EMPTY": ""}


@pytest.mark.parametrize(
    ("value", "expected", "missing"),
    [
        ("${A}", "1", set()),  # whole string
        ("x-${A}-${B}", "x-1-two", set()),  # several names inside text
        ("${EMPTY}", "", set()),  # set but empty is not missing
        ("$${A}", "${A}", set()),  # `$$` escapes a literal `$`
        ("cost: $$5", "cost: $5", set()),  # `$$` anywhere
        ("cost: $5 or $A", "cost: $5 or $A", set()),  # a lone `$` stays
        ("{{$context.body.id}}", "{{$context.body.id}}", set()),  # templates untouched
        ("${NOPE}/${A}/${ALSO_NOPE}", "${NOPE}/1/${ALSO_NOPE}", {"NOPE", "ALSO_NOPE"}),  # kept
        ({"a": ["${A}", {"b": "${C}"}]}, {"a": ["1", {"b": "${C}"}]}, {"C"}),  # nested
        ([5, True, None, 1.5], [5, True, None, 1.5], set()),  # non-strings untouched
    ],
)
def test_substitute_env(value: Any, expected: Any, missing: set[str]) -> None:
    found: dict[str, str] = {}
    assert substitute_env(value, ENV, found) == expected
    assert set(found) == missing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", "yes"),  # YAML 1.1 would read a boolean
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("Yes", "Yes"),
        ("true", True),  # YAML 1.2 booleans still are
        ("False", False),
        ("TRUE", True),
        ("1", 1),  # other scalars keep their types
        ("null", None),
    ],
)
def test_yaml_booleans_are_yaml_1_2(text: str, expected: Any) -> None:
    assert load(f"value: {text}") == {"value": expected}


def test_node_keys_that_yaml_1_1_reads_as_booleans_stay_strings(tmp_path: Path) -> None:
    (tmp_path / "flags.yaml").write_text(
        "key: flags\nsync: true\nnodes:\n"
        "  - {key: on, type: end}\n  - {key: off, type: end}\n  - {key: yes, type: end}\n"
    )
    [source], problems = read_sources([str(tmp_path / "flags.yaml")])
    doc, structural = normalise(source.data)
    assert problems == structural == []
    assert [n["key"] for n in doc["nodes"]] == ["on", "off", "yes"]


def test_read_sources_reads_directories_and_multi_document_files(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("key: b1\n---\n---\nkey: b2\n")  # an empty document between
    (tmp_path / "a.yml").write_text("key: a\n")
    (tmp_path / "c.json").write_text('{"key": "c"}')
    (tmp_path / "notes.txt").write_text("key: ignored\n")  # not a document suffix
    (tmp_path / "sub.yaml").mkdir()  # a directory, even with a document suffix
    single = tmp_path / "single.txt"
    single.write_text("key: named\n")  # a file named explicitly is read whatever its suffix

    sources, problems = read_sources([str(tmp_path), str(single)])

    assert problems == []
    assert [(Path(s.origin).name, s.data) for s in sources] == [
        ("a.yml", {"key": "a"}),
        ("b.yaml#1", {"key": "b1"}),
        ("b.yaml#2", {"key": "b2"}),
        ("c.json", {"key": "c"}),
        ("single.txt", {"key": "named"}),
    ]


def test_read_sources_reads_the_fixture_directory() -> None:
    sources, problems = read_sources([str(FIXTURES)])
    assert problems == []
    assert [Path(s.origin).name for s in sources] == [
        "events.yaml#1",
        "events.yaml#2",
        "invalid.yaml",
        "orders.yaml",
    ]


def test_read_sources_reports_every_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text("key: good\n")
    (tmp_path / "bad.yaml").write_text("key: [unclosed\n")
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "latin1.yaml").write_bytes(b"key: caf\xe9\n")
    missing = tmp_path / "missing.yaml"

    sources, problems = read_sources([str(tmp_path), str(missing)])

    assert [s.data for s in sources] == [{"key": "good"}]
    assert {Path(p.field).name: p.message.split(":")[0] for p in problems} == {
        "bad.json": "cannot read",
        "bad.yaml": "cannot read",
        "latin1.yaml": "cannot read",
        "missing.yaml": "no such file or directory",
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (["key", "a"], ""),  # a document that is not a mapping
        ({"key": "a", "colour": 1}, "colour"),  # unknown workflow field
        ({"key": "a", "trigger": [1]}, "trigger"),  # trigger not a mapping
        ({"key": "a", "trigger": {"url": "x"}}, "trigger.url"),  # unknown trigger field
        ({"key": "a", "trigger": {"request": {"cookies": []}}}, "trigger.request.cookies"),
        ({"key": "a", "trigger": {"request": {"body": "x"}}}, "trigger.request.body"),
        ({"key": "a", "trigger": {"request": {"body": [1]}}}, "trigger.request.body[0]"),
        (
            {"key": "a", "trigger": {"request": {"body": [{"key": "x", "as": 1}]}}},
            "trigger.request.body[0].as",
        ),
    ],
)
def test_structural_document_problems(data: Any, field: str) -> None:
    _, problems = normalise(data)
    assert [p.field for p in problems] == [field]
