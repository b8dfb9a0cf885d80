"""The processor over compiled plans: sequencing, branches, endings, errors, aborts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from gateway.core.errors import NodeFailure
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.core.types import JSONObject, Scope
from gateway.engine.node import Done, NodeType, Outcome, Respond
from gateway.engine.processor import Processor, RunResult
from gateway.engine.templates import compile_template
from gateway.nodes import compile_plan
from gateway.nodes.registry import REGISTRY, register
from tests.plans import node


class Value(NodeType):
    """Result = its `value` config rendered as a template."""

    type_name = "test-value"

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.value = compile_template(config.get("value"))

    async def run(self, scope: Scope) -> Outcome:
        return Done(self.value.render(scope))


class Fail(NodeType):
    type_name = "test-fail"

    async def run(self, scope: Scope) -> Outcome:
        raise NodeFailure(str(self.config.get("message", "failed")))


class Crash(NodeType):
    type_name = "test-crash"

    async def run(self, scope: Scope) -> Outcome:
        raise RuntimeError("boom")


class Block(NodeType):
    """Waits until cancelled."""

    type_name = "test-block"

    async def run(self, scope: Scope) -> Outcome:
        await asyncio.Event().wait()
        return Done()


@pytest.fixture(autouse=True)
def registered_test_nodes() -> Iterator[None]:
    """Registers the test node types for this module only (other tests list the registry)."""
    added = [register(cls) for cls in (Value, Fail, Crash, Block) if cls.type_name not in REGISTRY]
    yield
    for cls in added:
        del REGISTRY[cls.type_name]


TRUE = {"calculator": "equal", "operands": [1, 1]}
FALSE = {"calculator": "equal", "operands": [1, 2]}


def condition(key: str, test: JSONObject, **place: Any) -> dict[str, Any]:
    """A branching condition (rejectOnFalse: false)."""
    return node(key, "condition", {"rejectOnFalse": False, "calculation": test}, **place)


def multi(key: str, *tests: JSONObject, **config: Any) -> dict[str, Any]:
    conditions = [{"calculation": test} for test in tests]
    return node(key, "multi-conditions", {"conditions": conditions, **config})


async def run(nodes: list[dict[str, Any]], context: dict[str, Any] | None = None) -> RunResult:
    return await Processor(compile_plan({"nodes": nodes}), context or {}).run()


def trail(result: RunResult) -> list[str]:
    return [f"{job.node_key}:{job.status}" for job in result.jobs]


@pytest.mark.parametrize(
    ("nodes", "expected_trail", "status"),
    [
        # no nodes at all
        ([], [], "RESOLVED"),
        # the main chain runs in document order
        ([node("a"), node("b"), node("c")], ["a:RESOLVED", "b:RESOLVED", "c:RESOLVED"], "RESOLVED"),
        # true branch runs, then the chain goes on after the branching node (NocoBase)
        (
            [
                condition("if", TRUE),
                node("t1", up="if", branch=1),
                node("f1", up="if", branch=0),
                node("t2", up="if", branch=1),
                node("next"),
            ],
            ["if:RESOLVED", "t1:RESOLVED", "t2:RESOLVED", "next:RESOLVED"],
            "RESOLVED",
        ),
        # false branch
        (
            [
                condition("if", FALSE),
                node("t1", up="if", branch=1),
                node("f1", up="if", branch=0),
                node("next"),
            ],
            ["if:RESOLVED", "f1:RESOLVED", "next:RESOLVED"],
            "RESOLVED",
        ),
        # the chosen branch has no nodes: straight on
        (
            [condition("if", FALSE), node("t1", up="if", branch=1), node("next")],
            ["if:RESOLVED", "next:RESOLVED"],
            "RESOLVED",
        ),
        # nested branches unwind one level at a time
        (
            [
                condition("outer", TRUE),
                condition("inner", FALSE, up="outer", branch=1),
                node("deep", up="inner", branch=0),
                node("after-inner", up="outer", branch=1),
                node("last"),
            ],
            [
                "outer:RESOLVED",
                "inner:RESOLVED",
                "deep:RESOLVED",
                "after-inner:RESOLVED",
                "last:RESOLVED",
            ],
            "RESOLVED",
        ),
        # end 1: RESOLVED, nothing after it
        (
            [node("a"), node("end", "end", {"endStatus": 1}), node("after")],
            ["a:RESOLVED", "end:RESOLVED"],
            "RESOLVED",
        ),
        # end -1: FAILED, job FAILED
        (
            [node("a"), node("end", "end", {"endStatus": -1}), node("after")],
            ["a:RESOLVED", "end:FAILED"],
            "FAILED",
        ),
        # end deep in a branch stops the outer chains too
        (
            [
                condition("outer", TRUE),
                condition("inner", TRUE, up="outer", branch=1),
                node("end", "end", {"endStatus": 1}, up="inner", branch=1),
                node("after-end", up="inner", branch=1),
                node("after-inner", up="outer", branch=1),
                node("last"),
            ],
            ["outer:RESOLVED", "inner:RESOLVED", "end:RESOLVED"],
            "RESOLVED",
        ),
        # rejectOnFalse (default true) and a true test: the chain goes on
        (
            [node("if", "condition", {"calculation": TRUE}), node("next")],
            ["if:RESOLVED", "next:RESOLVED"],
            "RESOLVED",
        ),
        # rejectOnFalse by default and a false test: FAILED at once
        (
            [node("if", "condition", {"calculation": FALSE}), node("next")],
            ["if:FAILED"],
            "FAILED",
        ),
        # rejectOnFalse: true written out
        (
            [node("if", "condition", {"rejectOnFalse": True, "calculation": FALSE}), node("next")],
            ["if:FAILED"],
            "FAILED",
        ),
        # multi-conditions: the first true condition wins (branch 2, not 3)
        (
            [
                multi("mc", FALSE, TRUE, TRUE),
                node("b1", up="mc", branch=1),
                node("b2", up="mc", branch=2),
                node("b3", up="mc", branch=3),
                node("b0", up="mc", branch=0),
                node("next"),
            ],
            ["mc:RESOLVED", "b2:RESOLVED", "next:RESOLVED"],
            "RESOLVED",
        ),
        # multi-conditions: branch 1
        (
            [multi("mc", TRUE, TRUE), node("b1", up="mc", branch=1), node("next")],
            ["mc:RESOLVED", "b1:RESOLVED", "next:RESOLVED"],
            "RESOLVED",
        ),
        # no match: branch 0 runs, then the execution ends FAILED
        (
            [
                multi("mc", FALSE, FALSE),
                node("b1", up="mc", branch=1),
                node("b0", up="mc", branch=0),
                node("next"),
            ],
            ["mc:FAILED", "b0:RESOLVED"],
            "FAILED",
        ),
        # no match with continueOnNoMatch: branch 0, then the chain goes on
        (
            [
                multi("mc", FALSE, continueOnNoMatch=True),
                node("b0", up="mc", branch=0),
                node("next"),
            ],
            ["mc:RESOLVED", "b0:RESOLVED", "next:RESOLVED"],
            "RESOLVED",
        ),
        # no match and no branch 0: FAILED
        (
            [multi("mc", FALSE), node("b1", up="mc", branch=1), node("next")],
            ["mc:FAILED"],
            "FAILED",
        ),
        # response: RESOLVED, nothing after it
        (
            [node("a"), node("answer", "response"), node("after")],
            ["a:RESOLVED", "answer:RESOLVED"],
            "RESOLVED",
        ),
        # a response inside a branch ends the outer chain as well
        (
            [condition("if", TRUE), node("answer", "response", up="if", branch=1), node("after")],
            ["if:RESOLVED", "answer:RESOLVED"],
            "RESOLVED",
        ),
    ],
)
async def test_flow(nodes: list[dict[str, Any]], expected_trail: list[str], status: str) -> None:
    result = await run(nodes)
    assert trail(result) == expected_trail
    assert result.status == status


async def test_response_node_answers() -> None:
    config = {
        "statusCode": "{{$context.body.code}}",
        "headers": [{"name": "X-Order", "value": "order-{{$context.body.id}}"}],
        "body": {"received": "{{$context.body.id}}"},
    }
    result = await run([node("answer", "response", config)], {"body": {"code": 201, "id": 7}})
    assert result.status is ExecutionStatus.RESOLVED
    assert result.response == Respond(201, [("X-Order", "order-7")], {"received": 7})
    assert result.error is None
    [job] = result.jobs
    assert job.result == {
        "statusCode": 201,
        "headers": {"X-Order": "order-7"},
        "body": {"received": 7},
    }


async def test_no_response_without_a_response_node() -> None:
    result = await run([node("a")])
    assert result.response is None


async def test_later_nodes_read_earlier_results() -> None:
    gt_10 = {"calculator": "gt", "operands": ["{{$jobsMapByNodeKey.named}}", 10]}
    result = await run(
        [
            node("lookup", config={"value": {"total": "{{$context.body.total}}"}}),
            node("named", config={"value": "{{$jobsMapByNodeKey.lookup.total}}"}),
            node("big", "condition", {"calculation": gt_10}),
            node("early", config={"value": "{{$jobsMapByNodeKey.later}}"}),
            node("later", config={"value": "x"}),
            node("answer", "response", {"body": {"seen": "{{$jobsMapByNodeKey.big}}"}}),
        ],
        {"body": {"total": 12}},
    )
    assert [job.result for job in result.jobs[:5]] == [
        {"total": 12},
        12,  # a path into an earlier result keeps its type
        True,  # the condition read it
        None,  # a node that has not run yet renders as null
        "x",
    ]
    assert result.response is not None
    assert result.response.body == {"seen": True}


async def test_branching_results() -> None:
    # condition → its test's truth; multi-conditions → the index of the branch taken
    result = await run(
        [
            condition("if", FALSE),
            multi("mc", FALSE, TRUE),
            multi("none", FALSE, continueOnNoMatch=True),
            node(
                "seen",
                config={
                    "value": [
                        "{{$jobsMapByNodeKey.if}}",
                        "{{$jobsMapByNodeKey.mc}}",
                        "{{$jobsMapByNodeKey.none}}",
                    ]
                },
            ),
        ]
    )
    assert result.jobs[-1].result == [False, 2, 0]


async def test_a_result_holding_the_whole_results_map_is_a_snapshot() -> None:
    result = await run(
        [
            node("a", config={"value": 1}),
            node("answer", "response", {"body": "{{$jobsMapByNodeKey}}"}),
        ]
    )
    assert result.response is not None
    assert result.response.body == {"a": 1}  # what had run when the response rendered
    orjson.dumps([job.result for job in result.jobs])  # what the store writes


async def test_system_and_env_roots() -> None:
    plan = compile_plan(
        {"nodes": [node("a", config={"value": ["{{$system.now}}", "{{$env.REGION}}"]})]}
    )

    def clock() -> datetime:
        return datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)

    result = await Processor(plan, {}, {"REGION": "eu"}, clock=clock).run()
    assert result.jobs[0].result == ["2024-01-02T03:04:05+00:00", "eu"]


async def test_jobs_are_recorded_in_order_with_timestamps() -> None:
    before = datetime.now(UTC)
    result = await run(
        [
            condition("if", TRUE),
            node("t", up="if", branch=1),
            node("a", config={"value": 1}),
            node("end", "end", {"endStatus": -1}),
        ]
    )
    after = datetime.now(UTC)
    assert [(j.node_key, j.node_type) for j in result.jobs] == [
        ("if", "condition"),
        ("t", "test-value"),
        ("a", "test-value"),
        ("end", "end"),
    ]
    assert [j.result for j in result.jobs] == [True, None, 1, None]
    moments: list[datetime] = []
    for job in result.jobs:
        assert job.finished_at is not None
        assert job.started_at.tzinfo is UTC
        moments += [job.started_at, job.finished_at]
    assert moments == sorted(moments)
    assert before <= moments[0] and moments[-1] <= after


async def test_node_failure_ends_error_with_the_node_key() -> None:
    result = await run(
        [node("a"), node("call", "test-fail", {"message": "upstream said 502"}), node("after")]
    )
    assert trail(result) == ["a:RESOLVED", "call:ERROR"]
    assert result.status is ExecutionStatus.ERROR
    assert result.error == "node call: upstream said 502"
    assert result.jobs[-1].result == {"error": "upstream said 502"}
    assert result.jobs[-1].finished_at is not None


async def test_node_failure_inside_a_branch_stops_everything() -> None:
    result = await run(
        [condition("if", TRUE), node("call", "test-fail", up="if", branch=1), node("after")]
    )
    assert trail(result) == ["if:RESOLVED", "call:ERROR"]
    assert result.status is ExecutionStatus.ERROR


async def test_response_status_that_is_not_a_status_is_a_node_failure() -> None:
    config = {"statusCode": "{{$context.body.code}}"}
    result = await run([node("answer", "response", config)], {"body": {"code": "soon"}})
    assert result.status is ExecutionStatus.ERROR
    assert result.response is None
    assert result.error is not None and result.error.startswith("node answer: statusCode rendered")


async def test_unexpected_exception_is_an_internal_error_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plan = compile_plan({"nodes": [node("crash", "test-crash"), node("after")]})
    with caplog.at_level(logging.ERROR, logger="gateway.engine"):
        result = await Processor(plan, {}, execution_id="ex-1").run()
    assert trail(result) == ["crash:ERROR"]
    assert result.status is ExecutionStatus.ERROR
    assert result.error == "node crash: internal error"
    assert result.jobs[0].result == {"error": "internal error"}  # no exception text leaks
    [record] = [r for r in caplog.records if r.name == "gateway.engine"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert getattr(record, "node", None) == "crash"
    assert getattr(record, "execution_id", None) == "ex-1"


async def test_abort_after_a_timeout() -> None:
    processor = Processor(
        compile_plan({"nodes": [node("a"), node("wait", "test-block"), node("after")]}), {}
    )
    with pytest.raises(TimeoutError):
        # a deadline already passed fires at the first suspension: inside the blocking node
        async with asyncio.timeout(0):
            await processor.run()
    assert [j.status for j in processor.jobs] == [JobStatus.RESOLVED, JobStatus.PENDING]
    result = processor.abort("timeout")
    assert result.status is ExecutionStatus.ABORTED
    assert result.reason == "timeout"
    assert result.error == "execution timeout"
    assert trail(result) == ["a:RESOLVED", "wait:ABORTED"]
    assert result.jobs[1].finished_at is not None
    assert result.response is None


async def test_abort_with_another_status() -> None:
    processor = Processor(compile_plan({"nodes": [node("wait", "test-block")]}), {})
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0):
            await processor.run()
    result = processor.abort("canceled", ExecutionStatus.CANCELED)
    assert (result.status, result.reason) == (ExecutionStatus.CANCELED, "canceled")
    assert trail(result) == ["wait:ABORTED"]


def test_compile_plan_refuses_an_unknown_type() -> None:
    with pytest.raises(ValueError, match="unknown node type 'nope'"):
        compile_plan({"nodes": [node("a", "nope")]})


def test_compile_plan_builds_the_tree() -> None:
    plan = compile_plan(
        {
            "nodes": [
                condition("if", TRUE),
                node("t", up="if", branch=1),
                node("f", up="if", branch=0),
                node("next"),
            ]
        }
    )
    assert [s.key for s in plan.chain] == ["if", "next"]
    branches = plan.steps["if"].branches
    assert {i: [s.key for s in chain] for i, chain in branches.items()} == {0: ["f"], 1: ["t"]}
    assert set(plan.steps) == {"if", "t", "f", "next"}


def test_a_plan_of_nodes_that_never_wait_is_instant() -> None:
    # It needs neither a timer nor a lease heartbeat: nothing can interrupt it.
    instant = [
        {"key": "c", "type": "condition", "config": {"rejectOnFalse": False, "calculation": {}}},
        {"key": "r", "type": "response", "upstream": "c", "branchIndex": 1, "config": {}},
        {"key": "e", "type": "end", "upstream": "c", "branchIndex": 0, "config": {}},
    ]
    assert compile_plan({"nodes": instant}).instant
    request = {"key": "q", "type": "request", "config": {"url": "http://127.0.0.1/"}}
    cel = {"key": "x", "type": "condition", "config": {"engine": "cel", "expression": "true"}}
    assert not compile_plan({"nodes": [*instant, request]}).instant
    assert not compile_plan({"nodes": [cel]}).instant
