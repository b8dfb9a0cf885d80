"""Save-time checks of the node library: every problem at once, each at its field."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.engine.node import NodeType
from gateway.nodes.calculation import Calculation
from gateway.nodes.delay import Delay
from gateway.nodes.json_query import JsonQuery
from gateway.nodes.loop import Loop
from gateway.nodes.parallel import Parallel
from gateway.nodes.request import Request
from gateway.nodes.variable import Variable

URL = "https://api.example.com/orders"


@pytest.mark.parametrize(
    ("node", "config", "fields"),
    [
        # calculation
        (Calculation, {"expression": "{{$context.body.n}} * 2"}, []),
        (Calculation, {"engine": "cel", "expression": "1"}, []),
        (Calculation, {"engine": "mathjs", "expression": "1"}, ["x.engine"]),
        (Calculation, {}, ["x.expression"]),
        (Calculation, {"expression": "1 +"}, ["x.expression"]),
        # request
        (Request, {"url": URL}, []),
        (Request, {"url": "{{$context.body.callback}}", "method": "get"}, []),
        (Request, {"url": URL, "contentType": "application/xml"}, ["x.contentType"]),
        (Request, {"url": "not a url"}, ["x.url"]),
        (Request, {}, ["x.url"]),
        (
            Request,
            {"url": URL, "headers": [{"value": "1"}], "params": "a=1"},
            ["x.headers[0]", "x.params"],
        ),
        (Request, {"url": URL, "timeout": 60_001}, ["x.timeout"]),
        (Request, {"url": URL, "timeout": "5s"}, ["x.timeout"]),
        (Request, {"url": URL, "ignoreFail": "yes", "onlyData": 1}, ["x.ignoreFail", "x.onlyData"]),
        (Request, {"url": URL, "data": {"a": "{{$nope}}"}}, ["x.data"]),
        # json-query
        (JsonQuery, {"source": "{{$context.body}}", "expression": "a.b"}, []),
        (JsonQuery, {"engine": "jsonata", "source": 1, "expression": "a"}, ["x.engine"]),
        (JsonQuery, {"expression": "a"}, ["x.source"]),
        (JsonQuery, {"source": {}, "expression": "a[?"}, ["x.expression"]),
        (
            JsonQuery,
            {
                "source": {},
                "expression": "a",
                "model": [{"alias": "x"}, {"path": "a[", "alias": ""}],
            },
            ["x.model[0]", "x.model[1].path", "x.model[1].alias"],
        ),
        # variable
        (Variable, {"value": "{{$context.body.n}}"}, []),
        (Variable, {"target": "total", "value": 1}, []),
        (Variable, {"target": 5, "value": "{{$nope}}"}, ["x.target", "x.value"]),
        # loop
        (Loop, {"target": "{{$context.body.items}}", "exit": 2}, []),
        (
            Loop,
            {
                "target": 3,
                "condition": {
                    "checkpoint": 1,
                    "engine": "cel",
                    "expression": "{{$scopes.l.index}} < 2",
                },
            },
            [],
        ),
        (Loop, {}, ["x.target"]),
        (Loop, {"target": 1, "exit": 3}, ["x.exit"]),
        (
            Loop,
            {
                "target": 1,
                "condition": {
                    "checkpoint": 2,
                    "continueOnFalse": "no",
                    "calculation": {"calculator": "nope"},
                },
            },
            [
                "x.condition.calculation.calculator",
                "x.condition.calculation.operands",
                "x.condition.checkpoint",
                "x.condition.continueOnFalse",
            ],
        ),
        # parallel
        (Parallel, {}, []),
        (Parallel, {"mode": "allSettled"}, []),
        (Parallel, {"mode": "some"}, ["x.mode"]),
        # delay
        (Delay, {"unit": 3_600_000, "duration": 2}, []),
        (Delay, {"unit": "day", "duration": "{{$context.body.days}}", "endStatus": -1}, []),
        (Delay, {"unit": "fortnight", "duration": 1}, ["x.unit"]),
        (Delay, {"unit": "day", "duration": 400}, ["x.duration"]),
        (Delay, {"unit": "hour"}, ["x.duration"]),
        (Delay, {"duration": -1, "endStatus": 0}, ["x.duration", "x.endStatus"]),
        # config not an object
        (Request, [], ["x"]),
    ],
)
def test_check(node: type[NodeType], config: Any, fields: list[str]) -> None:
    assert [problem.field for problem in node.check(config, "x")] == fields


@pytest.mark.parametrize(
    ("node", "indices"),
    [
        (Loop, frozenset({0})),
        (Parallel, frozenset(range(1, 21))),
        (Request, None),
        (Delay, None),
    ],
)
def test_branch_indices(node: type[NodeType], indices: frozenset[int] | None) -> None:
    assert node.branch_indices({}) == indices
