"""The checked-in schemas (`schema/`) are what the code builds (`make schema` regenerates
them), and they say what the API and the documents are: no secret in any output type, and
the document schema accepts the example workflows and refuses a malformed one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
import yaml
from graphql import GraphQLObjectType

from gateway.api.schema import build_schema, sdl
from gateway.workflows.documents import DocumentLoader
from gateway.workflows.json_schema import schema_text, workflow_schema
from tests.support import ROOT

SCHEMA_DIR = ROOT / "schema"
EXAMPLES = sorted(
    p for p in (ROOT / "config" / "workflows").glob("*.yaml") if not p.name.endswith(".test.yaml")
) + sorted(
    (ROOT / "tests" / "fixtures" / "documents").glob("[!i]*.yaml")  # not invalid.yaml
)
STALE = "{} is stale: run `make schema` and commit the result"


def test_the_graphql_sdl_is_up_to_date() -> None:
    assert (SCHEMA_DIR / "gateway.graphql").read_text() == sdl(), STALE.format("gateway.graphql")


def test_the_workflow_json_schema_is_up_to_date() -> None:
    checked_in = (SCHEMA_DIR / "workflow.schema.json").read_text()
    assert checked_in == schema_text(), STALE.format("workflow.schema.json")


def test_no_output_type_has_a_secret() -> None:
    secret = re.compile(r"password|secret|hash", re.IGNORECASE)
    types = build_schema(introspection=True)._schema.type_map.values()
    fields = [
        f"{t.name}.{name}"
        for t in types
        if isinstance(t, GraphQLObjectType) and not t.name.startswith("__")
        for name in t.fields
    ]
    assert fields and not [f for f in fields if secret.search(f)]


def load(path: Path) -> list[Any]:
    return [d for d in yaml.load_all(path.read_text(), Loader=DocumentLoader) if d is not None]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_documents_match_the_json_schema(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(workflow_schema())
    for document in load(path):
        errors = [e.message for e in validator.iter_errors(orjson.loads(orjson.dumps(document)))]
        assert errors == []


def test_the_json_schema_refuses_malformed_documents() -> None:
    validator = jsonschema.Draft202012Validator(workflow_schema())
    bad = {
        "key": "x",
        "colour": "red",
        "nodes": [{"key": "a", "type": "condition", "branches": {"one": [{"type": "end"}]}}],
    }
    assert sorted(error.message for error in validator.iter_errors(bad)) == [
        "'key' is a required property",  # the branch's node
        "'one' does not match '^-?[0-9]+$'",  # a branch index
        "Additional properties are not allowed ('colour' was unexpected)",
    ]
