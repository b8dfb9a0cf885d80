"""Node types: save-time `check`, `branch_indices`, and what `run` returns."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.core.errors import NodeFailure, Problem
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.engine.node import Finish, Respond
from gateway.engine.responses import CompiledHeaders
from gateway.nodes.condition import Condition
from gateway.nodes.end import End
from gateway.nodes.multi_conditions import MultiConditions
from gateway.nodes.response import Response
from gateway.webhook.answers import answer, header_value

TEST = {"calculator": "equal", "operands": ["{{$context.body.a}}", 1]}
BAD_CALCULATOR = {"calculator": "equals", "operands": [1, 1]}
BAD_TEMPLATE = {"calculator": "equal", "operands": ["{{$nope.a}}", 1]}


def fields(problems: list[Problem]) -> list[str]:
    return [problem.field for problem in problems]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # no calculation at all: always true
        ({}, []),
        # a calculation, both branching modes
        ({"calculation": TEST}, []),
        ({"rejectOnFalse": False, "engine": "basic", "calculation": TEST}, []),
        # rejectOnFalse must be a bool
        ({"rejectOnFalse": "yes", "calculation": TEST}, ["c.rejectOnFalse"]),
        ({"rejectOnFalse": 1, "calculation": TEST}, ["c.rejectOnFalse"]),
        ({"rejectOnFalse": None}, ["c.rejectOnFalse"]),
        # unknown engine
        ({"engine": "js", "calculation": TEST}, ["c.engine"]),
        # cel: an expression, checked when saved
        ({"engine": "cel", "expression": "{{$context.body.a}} == 1"}, []),
        ({"engine": "cel", "expression": "a == 1"}, ["c.expression"]),  # undeclared name
        ({"engine": "cel", "expression": "1 + 1"}, ["c.expression"]),  # not a bool
        ({"engine": "cel"}, ["c.expression"]),  # missing
        # unknown calculator, with the path down to it
        ({"calculation": BAD_CALCULATOR}, ["c.calculation.calculator"]),
        (
            {"calculation": {"group": {"type": "and", "calculations": [TEST, BAD_CALCULATOR]}}},
            ["c.calculation.group.calculations[1].calculator"],
        ),
        # a placeholder with an unknown root
        ({"calculation": BAD_TEMPLATE}, ["c.calculation"]),
        # every problem at once
        (
            {"rejectOnFalse": "no", "engine": "js", "calculation": BAD_CALCULATOR},
            ["c.rejectOnFalse", "c.engine", "c.calculation.calculator"],
        ),
        # config not an object
        (["x"], ["c"]),
        (None, ["c"]),
    ],
)
def test_condition_check(config: Any, expected: list[str]) -> None:
    assert fields(Condition.check(config, "c")) == expected


def test_condition_engine_problem_has_a_hint() -> None:
    [problem] = Condition.check({"engine": "js"}, "nodes.paid.config")
    assert problem.field == "nodes.paid.config.engine"
    assert problem.hint == "basic, cel, math.js, formula.js"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, None),  # rejectOnFalse defaults to true: no branches
        ({"rejectOnFalse": True}, None),
        ({"rejectOnFalse": False}, frozenset({0, 1})),  # 1 true, 0 false
    ],
)
def test_condition_branch_indices(config: dict[str, Any], expected: frozenset[int] | None) -> None:
    assert Condition.branch_indices(config) == expected


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # one condition, then several
        ({"conditions": [{"calculation": TEST}]}, []),
        (
            {"conditions": [{"calculation": TEST}, {"engine": "basic"}], "continueOnNoMatch": True},
            [],
        ),
        # conditions missing, empty or not a list
        ({}, ["m.conditions"]),
        ({"conditions": []}, ["m.conditions"]),
        ({"conditions": {"calculation": TEST}}, ["m.conditions"]),
        # an item that is not an object, at its index
        ({"conditions": [{"calculation": TEST}, "x"]}, ["m.conditions[1]"]),
        # a bad item's field, at its index
        (
            {"conditions": [{"calculation": BAD_CALCULATOR}]},
            ["m.conditions[0].calculation.calculator"],
        ),
        ({"conditions": [{}, {"engine": "cel"}]}, ["m.conditions[1].expression"]),
        ({"conditions": [{}, {"engine": "lua"}]}, ["m.conditions[1].engine"]),
        ({"conditions": [{}, {}, {"calculation": BAD_TEMPLATE}]}, ["m.conditions[2].calculation"]),
        # continueOnNoMatch must be a bool, and is reported with the rest
        ({"continueOnNoMatch": "no"}, ["m.continueOnNoMatch", "m.conditions"]),
        (
            {"continueOnNoMatch": 0, "conditions": ["x", {"calculation": BAD_CALCULATOR}]},
            ["m.continueOnNoMatch", "m.conditions[0]", "m.conditions[1].calculation.calculator"],
        ),
        # config not an object
        ("x", ["m"]),
    ],
)
def test_multi_conditions_check(config: Any, expected: list[str]) -> None:
    assert fields(MultiConditions.check(config, "m")) == expected


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"conditions": [{}]}, frozenset({0, 1})),  # 0 is "no match"
        ({"conditions": [{}, {}, {}]}, frozenset({0, 1, 2, 3})),
        ({}, frozenset({0})),  # invalid config: only the fallback
    ],
)
def test_multi_conditions_branch_indices(config: dict[str, Any], expected: frozenset[int]) -> None:
    assert MultiConditions.branch_indices(config) == expected


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # everything defaults (200, no headers, no body)
        ({}, []),
        # the status range's ends
        ({"statusCode": 200}, []),
        ({"statusCode": 599}, []),
        # out of range, or not a number
        ({"statusCode": 199}, ["r.statusCode"]),
        ({"statusCode": 600}, ["r.statusCode"]),
        ({"statusCode": 100}, ["r.statusCode"]),
        ({"statusCode": "200"}, ["r.statusCode"]),
        ({"statusCode": 200.0}, ["r.statusCode"]),
        ({"statusCode": True}, ["r.statusCode"]),
        ({"statusCode": None}, ["r.statusCode"]),
        # a template is accepted (checked when it renders)
        ({"statusCode": "{{$context.body.code}}"}, []),
        ({"statusCode": "{{$jobsMapByNodeKey.pick}}"}, []),
        # a template with an unknown root is not
        ({"statusCode": "{{$nope.code}}"}, ["r.statusCode"]),
        # braces without `$` are literal text, which can never render to a status
        pytest.param(
            {"statusCode": "{{code}}"},
            ["r.statusCode"],
        ),
        # headers: a list of {name, value}
        (
            {
                "headers": [
                    {"name": "X-Id", "value": "{{$context.body.id}}"},
                    {"name": "Cache-Control", "value": "no-store"},
                ]
            },
            [],
        ),
        ({"headers": [{"name": "X-Empty"}]}, []),
        ({"headers": None}, []),
        ({"headers": {"X-Id": "1"}}, ["r.headers"]),
        ({"headers": "X-Id: 1"}, ["r.headers"]),
        # an item without a string name
        ({"headers": [{"value": "1"}]}, ["r.headers[0]"]),
        ({"headers": ["X-Id"]}, ["r.headers[0]"]),
        ({"headers": [{"name": 5, "value": "1"}]}, ["r.headers[0]"]),
        # names that are not HTTP tokens
        ({"headers": [{"name": "X Id", "value": "1"}]}, ["r.headers[0].name"]),
        ({"headers": [{"name": "", "value": "1"}]}, ["r.headers[0].name"]),
        ({"headers": [{"name": "X-Id:", "value": "1"}]}, ["r.headers[0].name"]),
        ({"headers": [{"name": "X-A\r\nX-B", "value": "1"}]}, ["r.headers[0].name"]),
        ({"headers": [{"name": "{{$context.body.h}}", "value": "1"}]}, ["r.headers[0].name"]),
        # a trailing newline slips past `$` in the name pattern
        pytest.param(
            {"headers": [{"name": "X-Id\n", "value": "1"}]},
            ["r.headers[0].name"],
        ),
        # headers the server manages, in any case
        ({"headers": [{"name": "Content-Length", "value": "1"}]}, ["r.headers[0].name"]),
        ({"headers": [{"name": "transfer-encoding", "value": "chunked"}]}, ["r.headers[0].name"]),
        ({"headers": [{"name": "Connection", "value": "close"}]}, ["r.headers[0].name"]),
        # a bad template in a header value
        ({"headers": [{"name": "X-Id", "value": "{{$nope}}"}]}, ["r.headers[0].value"]),
        # a bad template in the body, in a value or an object key
        ({"body": {"id": "{{$context.body.id}}"}}, []),
        ({"body": {"id": "{{$nope.id}}"}}, ["r.body"]),
        ({"body": {"{{$nope.id}}": 1}}, ["r.body"]),
        ({"body": ["ok", "{{$context.body[}}"]}, ["r.body"]),
        # every problem at once
        (
            {
                "statusCode": 700,
                "headers": [{"name": "Bad Name"}, {"name": "content-length", "value": "{{$nope}}"}],
                "body": "{{$nope}}",
            },
            [
                "r.statusCode",
                "r.headers[0].name",
                "r.headers[1].name",
                "r.headers[1].value",
                "r.body",
            ],
        ),
        # config not an object
        (5, ["r"]),
    ],
)
def test_response_check(config: Any, expected: list[str]) -> None:
    assert fields(Response.check(config, "r")) == expected


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, []),  # defaults to 1
        ({"endStatus": 1}, []),
        ({"endStatus": -1}, []),
        ({"endStatus": 0}, ["e.endStatus"]),
        ({"endStatus": 2}, ["e.endStatus"]),
        ({"endStatus": "1"}, ["e.endStatus"]),
        ({"endStatus": None}, ["e.endStatus"]),
        # JSON true is not 1, but `True in {1: ...}` holds in Python
        pytest.param(
            {"endStatus": True},
            ["e.endStatus"],
        ),
        # an unhashable value crashes the check instead of being reported
        pytest.param(
            {"endStatus": [1]},
            ["e.endStatus"],
        ),
        ([], ["e"]),  # config not an object
    ],
)
def test_end_check(config: Any, expected: list[str]) -> None:
    assert fields(End.check(config, "e")) == expected


@pytest.mark.parametrize("node_class", [Response, End])
def test_nodes_without_branches(node_class: type[Response] | type[End]) -> None:
    assert node_class.branch_indices({}) is None


@pytest.mark.parametrize(
    ("end_status", "status", "job_status"),
    [
        (1, ExecutionStatus.RESOLVED, JobStatus.RESOLVED),
        (-1, ExecutionStatus.FAILED, JobStatus.FAILED),
    ],
)
async def test_end_run(end_status: int, status: ExecutionStatus, job_status: JobStatus) -> None:
    outcome = await End("e", {"endStatus": end_status}).run({})
    assert outcome == Finish(status, None, job_status)


def scope(body: Any) -> dict[str, Any]:
    return {"$context": {"body": body}}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, {}, 200),  # a constant
        ("{{$context.body.code}}", {"code": 201}, 201),  # a number
        ("{{$context.body.code}}", {"code": "404"}, 404),  # numeric text
        ("{{$context.body.code}}", {"code": " 404 "}, 404),  # with spaces
        ("4{{$context.body.code}}", {"code": "04"}, 404),  # a mixed template
        ("{{$context.body.code}}", {"code": 599}, 599),  # the range's end
    ],
)
async def test_response_status_renders(status: Any, body: Any, expected: int) -> None:
    outcome = await Response("r", {"statusCode": status}).run(scope(body))
    assert isinstance(outcome, Respond)
    assert outcome.status_code == expected


@pytest.mark.parametrize(
    "code",
    [
        None,  # missing
        "soon",  # not a number
        "",  # empty text
        199,  # below the range
        600,  # above it
        True,  # a bool is not a status
        {"code": 200},  # an object
        # not statuses, yet int() makes them one
        pytest.param(404.5),
        pytest.param("2_00"),
    ],
)
async def test_response_status_not_a_status_is_a_node_failure(code: Any) -> None:
    node = Response("r", {"statusCode": "{{$context.body.code}}"})
    with pytest.raises(NodeFailure, match="statusCode rendered to"):
        await node.run(scope({"code": code}))


async def test_response_renders_headers_and_body() -> None:
    config = {
        "statusCode": 202,
        "headers": [
            {"name": "X-Id", "value": "{{$context.body.id}}"},
            {"name": "X-Trace", "value": "t-{{$context.body.trace}}"},
            {"name": "X-Empty"},
        ],
        "body": {"id": "{{$context.body.id}}", "tags": "{{$context.body.tags}}"},
    }
    outcome = await Response("r", config).run(scope({"id": 7, "trace": None, "tags": ["a"]}))
    assert outcome == Respond(
        202,
        [("X-Id", "7"), ("X-Trace", "t-"), ("X-Empty", "")],
        {"id": 7, "tags": ["a"]},  # exact placeholders keep their JSON types
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),  # text as is
        (42, "42"),  # a number
        (None, ""),  # null is empty
        # a bool or an object would be rendered as JSON text, as in mixed strings (templates)
        pytest.param(
            True,
            "true",
        ),
        pytest.param(
            {"a": 1},
            '{"a":1}',
        ),
    ],
)
def test_header_value_text(value: Any, expected: str) -> None:
    headers = CompiledHeaders([{"name": "X-V", "value": "{{$context.body.v}}"}])
    assert headers.render(scope({"v": value})) == [("X-V", expected)]


async def test_header_injection_is_sanitized_on_the_wire() -> None:
    # The engine keeps the rendered text; `answer` turns CR, LF and other controls into spaces
    # (sanitized, not refused), so a request value cannot add a header or split the response.
    config = {"headers": [{"name": "X-Echo", "value": "{{$context.body.v}}"}]}
    outcome = await Response("r", config).run(scope({"v": "a\r\nSet-Cookie: evil=1\n\nbody"}))
    assert isinstance(outcome, Respond)
    sent = answer(outcome.status_code, outcome.headers, outcome.body)
    assert sent.headers == [(b"x-echo", b"a  Set-Cookie: evil=1  body")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ok", b"ok"),  # plain text
        ("a\r\nb", b"a  b"),  # CRLF
        ("a\nb", b"a b"),  # bare LF
        ("a\rb", b"a b"),  # bare CR
        ("a\x00b\x7f", b"a b "),  # NUL and DEL
        ("tab\there", b"tab here"),  # controls include tab
        ("café", b"caf\xe9"),  # latin-1 text is kept
        ("日本", b"??"),  # beyond latin-1 is replaced, never raises
    ],
)
def test_header_value_on_the_wire(value: str, expected: bytes) -> None:
    assert header_value(value) == expected
