"""Delay: the processor parks with a JSON state and a new processor resumes from it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.engine.plan import Plan
from gateway.engine.processor import Processor, RunResult
from gateway.nodes import compile_plan
from tests.plans import node, value


def wait(
    key: str = "wait", up: str | None = None, branch: int | None = None, **config: Any
) -> dict[str, Any]:
    return node(key, "delay", {"unit": "hour", "duration": 1, **config}, up, branch)


async def park(plan: Plan, state: dict[str, Any] | None = None) -> RunResult:
    return await Processor(plan, {"body": {"n": 2}}, execution_id="ex-1", resume=state).run()


def stored(result: RunResult) -> dict[str, Any]:
    """The state as the store would keep it: through JSON."""
    assert result.parked is not None
    return dict(json.loads(json.dumps(result.parked.state)))


async def test_park_then_resume_finishes_with_earlier_results() -> None:
    plan = compile_plan(
        {
            "nodes": [
                value("first", "{{$context.body.n}}"),
                wait(),
                value("then", "{{$jobsMapByNodeKey.first}}"),
            ]
        }
    )
    before = datetime.now(UTC)
    parked = await park(plan)
    assert parked.status is ExecutionStatus.QUEUED
    assert parked.parked is not None
    assert (
        before + timedelta(hours=1)
        <= parked.parked.resume_at
        <= datetime.now(UTC) + timedelta(hours=1)
    )
    assert [(j.node_key, j.status) for j in parked.jobs] == [
        ("first", "RESOLVED"),
        ("wait", "PENDING"),
    ]
    assert parked.jobs[1].result == {"resumeAt": parked.parked.resume_at.isoformat()}

    resumed = await park(plan, stored(parked))
    assert resumed.status is ExecutionStatus.RESOLVED
    assert [(j.node_key, j.status) for j in resumed.jobs] == [
        ("wait", "RESOLVED"),
        ("then", "RESOLVED"),
    ]
    assert resumed.jobs[0].started_at == parked.jobs[1].started_at  # the same job, finished
    assert resumed.jobs[1].result == 2  # the earlier run's result is visible


async def test_end_status_minus_one_fails_on_resume() -> None:
    plan = compile_plan({"nodes": [wait(endStatus=-1), value("then", 1)]})
    resumed = await park(plan, stored(await park(plan)))
    assert resumed.status is ExecutionStatus.FAILED
    assert [(j.node_key, j.status) for j in resumed.jobs] == [("wait", JobStatus.FAILED)]


async def test_resume_inside_branches_goes_on_with_the_outer_chains() -> None:
    plan = compile_plan(
        {
            "nodes": [
                node("if", "condition", {"rejectOnFalse": False}),
                value("t1", 1, up="if", branch=1),
                wait(up="if", branch=1),
                wait("again", up="if", branch=1),
                value("t2", 2, up="if", branch=1),
                value("last", 3),
            ]
        }
    )
    first = await park(plan)
    second = await park(plan, stored(first))
    assert [(j.node_key, j.status) for j in second.jobs] == [
        ("wait", "RESOLVED"),
        ("again", "PENDING"),
    ]
    third = await park(plan, stored(second))
    assert third.status is ExecutionStatus.RESOLVED
    assert [j.node_key for j in third.jobs] == ["again", "t2", "last"]


async def test_multi_conditions_without_a_match_still_fails_after_a_resume() -> None:
    false = {"calculator": "equal", "operands": [1, 2]}
    plan = compile_plan(
        {
            "nodes": [
                node("mc", "multi-conditions", {"conditions": [{"calculation": false}]}),
                wait(up="mc", branch=0),
                value("after", 1),
            ]
        }
    )
    resumed = await park(plan, stored(await park(plan)))
    assert resumed.status is ExecutionStatus.FAILED
    assert [j.node_key for j in resumed.jobs] == ["wait"]


@pytest.mark.parametrize(
    "state",
    [
        {"version": 99},  # a future format
        {
            "version": 1,
            "node": "gone",
            "startedAt": "2024-01-01T00:00:00+00:00",
            "stack": [],
            "results": {},
        },
        {"version": 1, "node": "wait", "startedAt": "soon", "stack": [], "results": {}},
    ],
)
async def test_a_state_that_does_not_fit_ends_error(state: dict[str, Any]) -> None:
    plan = compile_plan({"nodes": [wait()]})
    result = await park(plan, state)
    assert result.status is ExecutionStatus.ERROR
    assert str(result.error).startswith("cannot resume")


@pytest.mark.parametrize(
    ("duration", "message"),
    [("{{$context.body.soon}}", "not a number"), ("{{$context.body.big}}", "out of range")],
)
async def test_a_rendered_duration_must_be_a_sane_number(duration: str, message: str) -> None:
    plan = compile_plan({"nodes": [node("wait", "delay", {"unit": "day", "duration": duration})]})
    result = await Processor(plan, {"body": {"soon": "x", "big": 1000}}).run()
    assert result.status is ExecutionStatus.ERROR
    assert message in str(result.error)
