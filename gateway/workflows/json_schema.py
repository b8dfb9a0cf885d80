"""The JSON Schema of a workflow document (docs/documents.md: nested and flat nodes), built from
the same names and patterns validation uses, and checked in at `schema/workflow.schema.json`
for editors (YAML language servers, IDEs):

    python -m gateway.workflows.json_schema schema/workflow.schema.json   (`make schema`)

The schema describes shapes; what only the service can check (node configs, graph, templates,
`${NAME}` references in place of numbers) is left to `gateway apply --dry-run`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from gateway.engine.rules import TYPES
from gateway.nodes import node_types, retry
from gateway.workflows import validation
from gateway.workflows.documents import NODE_FIELDS, RULE_FIELDS, SOURCES, TRIGGER_FIELDS
from gateway.workflows.retry_options import MAX_RETRIES, WHEN

Schema = dict[str, Any]
STRING: Schema = {"type": "string"}
NULLABLE_STRING: Schema = {"type": ["string", "null"]}
TEMPLATED: Schema = {"description": "Any JSON value; strings may hold {{ $… }} templates"}


def _object(properties: Schema, required: tuple[str, ...] = (), **extra: Any) -> Schema:
    out: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return {**out, **extra}


def _rule() -> Schema:
    fields: Schema = {
        "key": {**STRING, "description": 'A path: b.c, items[0].id, ["a.b"]; "" the whole body'},
        "alias": NULLABLE_STRING,
        "var": {"type": ["string", "null"], "pattern": validation.VAR_NAME.pattern},
        "_var": {"type": ["string", "null"], "description": "NocoBase's name for var"},
        "required": {"type": "boolean"},
        "type": {"enum": [*TYPES, None]},
    }
    assert set(fields) == RULE_FIELDS, "a parse-rule field has no schema"
    return {"oneOf": [{**STRING, "description": "Short for {key: …}"}, _object(fields, ("key",))]}


def _response() -> Schema:
    header = _object({"name": STRING, "value": TEMPLATED}, ("name", "value"))
    return _object(
        {
            "statusCode": {"type": "integer", "minimum": 200, "maximum": 599},
            "headers": {"type": "array", "items": header},
            "body": TEMPLATED,
        },
        description="The answer an async call gets at once (default 200, ok)",
    )


def _trigger() -> Schema:
    auth = _object({"username": STRING, "password": STRING}, ("username",))
    known: Schema = {
        "key": {"type": "string", "pattern": validation.TRIGGER_KEY.pattern},
        "basicAuthentication": {"oneOf": [{"type": "null"}, {"const": False}, auth]},
        "request": _object(
            {s: {"type": "array", "items": {"$ref": "#/$defs/rule"}} for s in SOURCES}
        ),
        "response": {"$ref": "#/$defs/response"},
    }
    options: Schema = {name: {"type": "object"} for name in sorted(TRIGGER_FIELDS - set(known))}
    options["deduplicate"] = {
        "oneOf": [{"type": "object"}, {"const": False}],
        "description": "{key, window}; false turns off the signing preset's own",
    }
    return _object({**known, **options})


def _node() -> Schema:
    fields: Schema = {
        "key": {"type": "string", "pattern": validation.NODE_KEY.pattern},
        "type": {"enum": sorted(node_types())},
        "title": STRING,
        "config": {"type": "object"},
        "upstream": {**NULLABLE_STRING, "description": "Flat form: an earlier branching node"},
        "branchIndex": {"type": ["integer", "null"]},
        "branches": {
            "type": "object",
            "description": "Nested form: branch index → the nodes of that branch",
            "propertyNames": {"pattern": "^-?[0-9]+$"},
            "additionalProperties": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        },
        "pinned": {
            "description": "The result a test run gives this node instead of running its side "
            "effect (a request node not sent)"
        },
    }
    assert set(fields) == NODE_FIELDS, "a node field has no schema"
    request_config = {"properties": {"retry": {"$ref": "#/$defs/nodeRetry"}}}
    return _object(
        fields,
        ("key", "type"),
        allOf=[
            {
                "if": {"properties": {"type": {"const": "request"}}},
                "then": {"properties": {"config": request_config}},
            }
        ],
    )


DURATION: Schema = {
    "oneOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$"},
    ],
    "description": "Milliseconds, or text such as 200ms, 5s, 5m, 2h",
}


def _node_retry() -> Schema:
    condition: Schema = {
        "oneOf": [
            {"enum": ["network", "timeout"]},
            {"type": "string", "pattern": "^[45](\\d\\d|xx)$"},
            {"type": "integer", "minimum": 400, "maximum": 599},
        ]
    }
    fields: Schema = {
        "attempts": {"type": "integer", "minimum": 1, "maximum": retry.MAX_ATTEMPTS},
        "backoff": {"enum": list(retry.BACKOFFS)},
        "initialInterval": DURATION,
        "maxInterval": DURATION,
        "jitter": {"type": "boolean"},
        "on": {"type": "array", "items": condition, "minItems": 1},
    }
    assert set(fields) == retry.FIELDS, "a retry field has no schema"
    return _object(fields, description="A request node's retries (docs/nodes.md)")


def _options() -> Schema:
    fields: Schema = {
        "timeout": {"type": "integer", "minimum": 1, "maximum": validation.MAX_TIMEOUT_MS},
        "keepExecutions": {"enum": list(validation.KEEP_EXECUTIONS)},
        "onWorkerLost": {"enum": list(validation.ON_WORKER_LOST)},
        "retry": _object(
            {"schedule": {"type": "array", "items": DURATION, "maxItems": MAX_RETRIES}},
            description="Execution retries (async): the waits before each; [] = none",
        ),
        "onFailure": _object(
            {
                "workflow": {"type": "string", "pattern": validation.WORKFLOW_KEY.pattern},
                "when": {"enum": list(WHEN)},
            },
            ("workflow",),
            description="A workflow to run when an execution dead-letters (or every failure)",
        ),
        "maxOutbound": {
            "type": "integer",
            "minimum": 1,
            "maximum": validation.MAX_OUTBOUND,
            "description": "Calls of its request nodes in flight at once, per process",
        },
    }
    assert set(fields) == validation.OPTIONS, "a workflow option has no schema"
    return _object(fields)


def workflow_schema() -> Schema:
    document = _object(
        {
            "key": {"type": "string", "pattern": validation.WORKFLOW_KEY.pattern},
            "title": STRING,
            "description": STRING,
            "enabled": {"type": "boolean"},
            "sync": {"type": "boolean"},
            "options": _options(),
            "trigger": {"$ref": "#/$defs/trigger"},
            "nodes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        },
        ("key",),
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "workflow.schema.json",
        "title": "Workflow document",
        "description": "One workflow, as `gateway apply` and the applyWorkflows mutation take it",
        **document,
        "$defs": {
            "trigger": _trigger(),
            "rule": _rule(),
            "response": _response(),
            "node": _node(),
            "nodeRetry": _node_retry(),
        },
    }


def schema_text() -> str:
    return orjson.dumps(workflow_schema(), option=orjson.OPT_INDENT_2).decode() + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m gateway.workflows.json_schema OUTPUT.json", file=sys.stderr)
        return 2
    Path(args[0]).write_text(schema_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
