"""Running the node library through the processor: values, loops, parallel branches."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway import outbound
from gateway.core.statuses import ExecutionStatus
from gateway.engine.processor import MAX_ITERATIONS, Processor, RunResult
from gateway.nodes import compile_plan
from tests.httpserver import Answer, Received, TestServer
from tests.plans import node, value

FALSE = {"calculator": "equal", "operands": [1, 2]}


async def run(nodes: list[dict[str, Any]], body: Any = None) -> RunResult:
    return await Processor(compile_plan({"nodes": nodes}), {"body": body}).run()


def trail(result: RunResult) -> list[str]:
    return [f"{job.node_key}{list(job.position) or ''}:{job.status}" for job in result.jobs]


BODY: dict[str, Any] = {
    "items": [{"sku": "A", "qty": 2, "price": 5}, {"sku": "B", "qty": 1, "price": 7}],
    "n": 3,
}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"expression": "{{$context.body.n}} * 2"}, 6),
        (
            {"engine": "cel", "expression": "{{$context.body.items}}.map(i, i.qty * i.price)"},
            [10, 7],
        ),
        ({"expression": "{{$context.body.items}}.exists(i, i.sku == 'B')"}, True),
    ],
)
async def test_calculation(config: dict[str, Any], expected: Any) -> None:
    result = await run([node("calc", "calculation", config)], BODY)
    assert result.jobs[0].result == expected


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"source": "{{$context.body}}", "expression": "items[?qty > `1`].sku"}, ["A"]),
        ({"source": "{{$context.body}}", "expression": "sum(items[*].price)"}, 12),
        ({"source": "{{$context.body.items}}", "expression": "[0]"}, BODY["items"][0]),
        ({"source": "{{$context.body}}", "expression": "missing.path"}, None),
        # model: each result object reshaped to {alias: value at path}
        (
            {
                "source": "{{$context.body}}",
                "expression": "items",
                "model": [{"path": "sku", "alias": "id"}, {"path": "qty"}],
            },
            [{"id": "A", "qty": 2}, {"id": "B", "qty": 1}],
        ),
    ],
)
async def test_json_query(config: dict[str, Any], expected: Any) -> None:
    result = await run([node("q", "json-query", config)], BODY)
    assert result.jobs[0].result == expected


async def test_json_query_results_that_would_explode_are_refused() -> None:
    doubling = " | ".join(["{a: @, b: @}"] * 30)  # shared references: 2**30 values as JSON
    config = {"source": "{{$context.body}}", "expression": doubling}
    result = await run([node("q", "json-query", config)], BODY)
    assert result.status is ExecutionStatus.ERROR
    assert "more than 100000 values" in str(result.error)


async def test_variable_declare_and_assign() -> None:
    result = await run(
        [
            value("total", 0),
            node("add", "variable", {"target": "total", "value": "{{$context.body.n}}"}),
            value("seen", "{{$jobsMapByNodeKey.total}}"),
        ],
        BODY,
    )
    assert [job.result for job in result.jobs] == [0, 3, 3]


async def test_a_loop_runs_its_branch_per_item_with_scopes() -> None:
    result = await run(
        [
            node("each", "loop", {"target": "{{$context.body.items}}"}),
            value(
                "line",
                {
                    "sku": "{{$scopes.each.item.sku}}",
                    "at": "{{$scopes.each.index}}",
                    "of": "{{$scopes.each.length}}",
                },
                up="each",
                branch=0,
            ),
            node(
                "total",
                "calculation",
                {"expression": "{{$jobsMapByNodeKey.line.at}} + 1"},
                up="each",
                branch=0,
            ),
            value("after", "{{$jobsMapByNodeKey.line}}"),
        ],
        BODY,
    )
    assert trail(result) == [
        "each:RESOLVED",
        "line[0]:RESOLVED",
        "total[0]:RESOLVED",
        "line[1]:RESOLVED",
        "total[1]:RESOLVED",
        "after:RESOLVED",
    ]
    assert result.jobs[0].result == {"looped": 2}
    assert [job.result for job in result.jobs[1:5]] == [
        {"sku": "A", "at": 0, "of": 2},
        1,
        {"sku": "B", "at": 1, "of": 2},
        2,
    ]
    assert result.jobs[-1].result == {"sku": "B", "at": 1, "of": 2}  # the latest iteration


@pytest.mark.parametrize(
    ("target", "items"),
    [
        (3, [0, 1, 2]),  # a count
        (2.9, [0, 1]),  # floored
        (["a", None, "b"], ["a", "b"]),  # nulls skipped
        ("one", ["one"]),  # a single value
        (None, []),  # nothing
        (0, []),
    ],
)
async def test_loop_targets(target: Any, items: list[Any]) -> None:
    result = await run(
        [
            node("each", "loop", {"target": "{{$context.body}}"}),
            value("v", "{{$scopes.each.item}}", up="each", branch=0),
        ],
        target,
    )
    assert [job.result for job in result.jobs[1:]] == items


NESTED = [
    node("outer", "loop", {"target": 2}),
    node("inner", "loop", {"target": 2}, up="outer", branch=0),
    value("pair", ["{{$scopes.outer.item}}", "{{$scopes.inner.item}}"], up="inner", branch=0),
]


async def test_nested_loops_record_positions() -> None:
    result = await run(NESTED)
    pairs = [(job.position, job.result) for job in result.jobs if job.node_key == "pair"]
    assert pairs == [((0, 0), [0, 0]), ((0, 1), [0, 1]), ((1, 0), [1, 0]), ((1, 1), [1, 1])]


FAIL_ON_B = node(
    "check",
    "condition",
    {"calculation": {"calculator": "notEqual", "operands": ["{{$scopes.each.item}}", "b"]}},
    up="each",
    branch=0,
)


@pytest.mark.parametrize(
    ("exit_mode", "status", "seen", "loop_result"),
    [
        (0, "FAILED", ["a"], {"looped": 2}),  # end the execution with the failure
        (1, "RESOLVED", ["a"], {"looped": 2, "broken": True}),  # break, go on after
        (2, "RESOLVED", ["a", "c"], {"looped": 3}),  # next item
    ],
)
async def test_loop_exit_modes(
    exit_mode: int, status: str, seen: list[str], loop_result: Any
) -> None:
    result = await run(
        [
            node("each", "loop", {"target": ["a", "b", "c"], "exit": exit_mode}),
            FAIL_ON_B,
            value("seen", "{{$scopes.each.item}}", up="each", branch=0),
            value("after", "done"),
        ]
    )
    assert result.status == status
    assert [job.result for job in result.jobs if job.node_key == "seen"] == seen
    assert result.jobs[0].result == loop_result
    assert ("after" in [job.node_key for job in result.jobs]) is (status == "RESOLVED")


@pytest.mark.parametrize(
    ("condition", "seen", "broken"),
    [
        # before each item: stop at the first false
        (
            {"calculation": {"calculator": "lt", "operands": ["{{$scopes.each.item}}", 2]}},
            [0, 1],
            True,
        ),
        # before, continueOnFalse: skip the false ones
        (
            {
                "continueOnFalse": True,
                "engine": "cel",
                "expression": "{{$scopes.each.item}} % 2 == 0",
            },
            [0, 2],
            False,
        ),
        # after each item: the item that made it false has run
        (
            {
                "checkpoint": 1,
                "calculation": {"calculator": "lt", "operands": ["{{$scopes.each.item}}", 1]},
            },
            [0, 1],
            True,
        ),
    ],
)
async def test_loop_conditions(condition: dict[str, Any], seen: list[int], broken: bool) -> None:
    result = await run(
        [
            node("each", "loop", {"target": 4, "condition": condition}),
            value("v", "{{$scopes.each.item}}", up="each", branch=0),
        ]
    )
    assert [job.result for job in result.jobs[1:]] == seen
    assert result.jobs[0].result.get("broken", False) is broken


async def test_the_iteration_cap_fails_the_loop() -> None:
    result = await run(
        [node("each", "loop", {"target": MAX_ITERATIONS + 1}), value("v", 1, up="each", branch=0)]
    )
    assert result.status is ExecutionStatus.ERROR
    assert result.jobs[0].node_key == "each" and result.jobs[0].status == "ERROR"
    assert f"more than {MAX_ITERATIONS} loop iterations" in str(result.error)
    assert len(result.jobs) == MAX_ITERATIONS + 1


async def test_a_response_inside_a_loop_ends_the_execution() -> None:
    result = await run(
        [
            node("each", "loop", {"target": 3}),
            node("answer", "response", {"body": "{{$scopes.each.item}}"}, up="each", branch=0),
            value("after", 1),
        ]
    )
    assert result.status is ExecutionStatus.RESOLVED
    assert result.response is not None and result.response.body == 0
    assert trail(result) == ["each:RESOLVED", "answer[0]:RESOLVED"]


def branches(*chains: list[dict[str, Any]], mode: str = "all") -> list[dict[str, Any]]:
    nodes = [node("par", "parallel", {"mode": mode})]
    for index, chain in enumerate(chains, start=1):
        nodes += [{**n, "upstream": "par", "branchIndex": index} for n in chain]
    return [*nodes, value("after", "{{$jobsMapByNodeKey.par}}")]


async def test_parallel_branches_run_concurrently() -> None:
    # the service answers only once both calls have arrived: sequential branches would hang
    arrived: list[Received] = []
    both = asyncio.Event()

    async def rendezvous(request: Received) -> Answer:
        arrived.append(request)
        if len(arrived) == 2:
            both.set()
        await both.wait()
        return Answer(200, {"path": request.target})

    await outbound.start(("127.0.0.2",))
    try:
        async with TestServer(rendezvous) as server:
            call = {"method": "GET", "onlyData": True}
            nodes = branches(
                [node("a", "request", {**call, "url": server.url("/a")})],
                [node("b", "request", {**call, "url": server.url("/b")})],
            )
            result = await asyncio.wait_for(run(nodes), 5)
    finally:
        await outbound.stop()
    assert result.status is ExecutionStatus.RESOLVED
    results = {job.node_key: job.result for job in result.jobs}
    assert (results["a"], results["b"]) == ({"path": "/a"}, {"path": "/b"})
    assert results["after"] == {"1": "RESOLVED", "2": "RESOLVED"}


FAILS = [node("no", "condition", {"calculation": FALSE})]
OK = [value("ok", 1)]


@pytest.mark.parametrize(
    ("mode", "chains", "status", "states"),
    [
        ("all", [OK, OK], "RESOLVED", {"1": "RESOLVED", "2": "RESOLVED"}),
        ("all", [OK, FAILS], "FAILED", {"1": "RESOLVED", "2": "FAILED"}),
        ("any", [FAILS, OK], "RESOLVED", {"1": "FAILED", "2": "RESOLVED"}),
        ("any", [FAILS, FAILS], "FAILED", {"1": "FAILED", "2": "FAILED"}),
        # branches that finish at the same moment settle in index order
        ("race", [FAILS, OK], "FAILED", {"1": "FAILED", "2": "RESOLVED"}),
        ("race", [OK, FAILS], "RESOLVED", {"1": "RESOLVED", "2": "FAILED"}),
        ("allSettled", [FAILS, OK], "RESOLVED", {"1": "FAILED", "2": "RESOLVED"}),
    ],
)
async def test_parallel_modes(
    mode: str, chains: list[list[dict[str, Any]]], status: str, states: dict[str, str]
) -> None:
    keyed = [[{**n, "key": f"{n['key']}{i}"} for n in chain] for i, chain in enumerate(chains)]
    result = await run(branches(*keyed, mode=mode))
    assert result.status == status
    assert result.jobs[0].result == states
    assert (result.jobs[-1].node_key == "after") is (status == "RESOLVED")


async def test_parallel_cancels_branches_no_longer_needed() -> None:
    async def never(_: Received) -> Answer:
        await asyncio.Event().wait()
        return Answer()

    await outbound.start(("127.0.0.2",))
    try:
        async with TestServer(never) as server:
            slow = [node("wait", "request", {"method": "GET", "url": server.url("/")})]
            result = await run(branches(slow, [value("x", 1)], mode="any"))
    finally:
        await outbound.stop()
    assert result.status is ExecutionStatus.RESOLVED
    assert {job.node_key: job.status for job in result.jobs}["wait"] == "CANCELED"
    assert result.jobs[0].result == {"1": "CANCELED", "2": "RESOLVED"}


async def test_a_response_in_a_parallel_branch_answers_at_once() -> None:
    result = await run(branches([node("answer", "response", {"body": "first"})], OK))
    assert result.response is not None and result.response.body == "first"
    assert "after" not in [job.node_key for job in result.jobs]
