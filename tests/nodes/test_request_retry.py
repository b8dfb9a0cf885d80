"""A request node's retry policy (docs/nodes.md): against real HTTP servers on 127.0.0.x that
fail a given number of times, then answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway import outbound
from gateway.core.backoff import retry_delay
from gateway.core.durations import parse_duration
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.engine.processor import Processor, RunResult
from gateway.nodes import compile_plan
from gateway.nodes.request import Request
from gateway.nodes.retry import RetryPolicy, parse_retry_after
from tests.httpserver import Answer, Received, TestServer

FAST = {"initialInterval": 1, "maxInterval": 5, "jitter": False}


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    await outbound.start(("127.0.0.0/8",))
    async with TestServer(host="127.0.0.2") as running:
        yield running
    await outbound.stop()


def failing(times: int, answer: Answer) -> Any:
    """A handler that gives `answer` `times` times, then 200."""
    calls = 0

    async def handler(_: Received) -> Answer:
        nonlocal calls
        calls += 1
        return answer if calls <= times else Answer(200, {"ok": True})

    return handler


async def run(config: dict[str, Any], deadline_in: float | None = None) -> RunResult:
    plan = compile_plan({"nodes": [{"key": "call", "type": "request", "config": config}]})
    processor = Processor(plan, {"body": {}}, execution_id="ex-1")
    if deadline_in is not None:
        processor.deadline = asyncio.get_running_loop().time() + deadline_in
    return await processor.run()


async def test_tries_again_until_it_works_with_one_idempotency_key(server: TestServer) -> None:
    server.handler = failing(2, Answer(503, "busy"))
    result = await run({"url": server.url("/hook"), "retry": {"attempts": 3, **FAST}})

    assert result.status is ExecutionStatus.RESOLVED
    assert len(server.received) == 3
    assert len({r.headers["idempotency-key"] for r in server.received}) == 1
    [job] = result.jobs
    assert job.status is JobStatus.RESOLVED and job.result["data"] == {"ok": True}
    assert job.attempts is not None
    assert [(a["outcome"], a.get("status")) for a in job.attempts] == [
        ("status", 503),
        ("status", 503),
        ("ok", 200),
    ]
    assert [a.get("retryInMs") for a in job.attempts] == [1, 2, None]  # exponential
    assert all(datetime.fromisoformat(a["at"]).tzinfo is not None for a in job.attempts)


async def test_gives_up_after_its_attempts_and_the_failure_is_retryable(
    server: TestServer,
) -> None:
    server.handler = failing(5, Answer(502, "down"))
    result = await run({"url": server.url("/"), "retry": {"attempts": 2, **FAST}})

    assert result.status is ExecutionStatus.FAILED
    assert len(server.received) == 2
    assert result.jobs[0].status is JobStatus.FAILED
    assert result.error == f"node call: POST {server.url('/')} answered 502"


@pytest.mark.parametrize(
    ("on", "status", "tries"),
    [
        # the default list: 429 and 5xx, not other 4xx
        (None, 429, 2),
        (None, 500, 2),
        (None, 404, 1),
        # listed statuses and classes
        (["409"], 409, 2),
        ([409], 409, 2),
        (["4xx"], 418, 2),
        (["network"], 503, 1),  # a list without 5xx: a 503 is final
    ],
)
async def test_what_is_retried(
    server: TestServer, on: list[Any] | None, status: int, tries: int
) -> None:
    server.handler = failing(1, Answer(status, "no"))
    retry: dict[str, Any] = {"attempts": 2, **FAST, **({"on": on} if on else {})}
    await run({"url": server.url("/"), "retry": retry})
    assert len(server.received) == tries


async def test_network_errors_name_their_cause_and_are_retried(server: TestServer) -> None:
    closed = server.url("/").replace(str(server.port), "1")
    result = await run({"url": closed, "retry": {"attempts": 2, **FAST}})

    attempts = result.jobs[0].attempts
    assert attempts is not None and [a["outcome"] for a in attempts] == ["network", "network"]
    assert "connection refused" in attempts[0]["error"]
    assert result.error is not None and "connection refused" in result.error


async def test_a_connection_closed_without_an_answer_is_a_network_error(
    server: TestServer,
) -> None:
    calls = 0

    async def reset_once(_: Received) -> Answer:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionResetError  # the server drops the connection
        return Answer(200, "ok")

    server.handler = reset_once
    result = await run({"url": server.url("/"), "retry": {"attempts": 2, **FAST}})

    assert result.status is ExecutionStatus.RESOLVED
    attempts = result.jobs[0].attempts
    assert attempts is not None and attempts[0]["outcome"] == "network"
    assert attempts[0]["error"].split("failed: ", 1)[1]  # never an empty cause


async def test_a_timeout_is_retried_and_says_which_phase(server: TestServer) -> None:
    calls = 0

    async def slow_once(_: Received) -> Answer:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.Event().wait()
        return Answer(200, "ok")

    server.handler = slow_once
    result = await run({"url": server.url("/"), "timeout": 50, "retry": {"attempts": 2, **FAST}})

    assert result.status is ExecutionStatus.RESOLVED
    attempts = result.jobs[0].attempts
    assert attempts is not None and attempts[0]["outcome"] == "timeout"
    assert "timed out waiting for the answer" in attempts[0]["error"]


@pytest.mark.parametrize(
    ("retry_after", "waited_ms"),
    [
        ("0", 0),  # asked for no wait
        ("3600", 5),  # capped at maxInterval (5 ms here)
        ("soon", 1),  # unusable: the backoff
    ],
)
async def test_retry_after_is_honoured_and_capped(
    server: TestServer, retry_after: str, waited_ms: int
) -> None:
    server.handler = failing(1, Answer(429, "slow down", [("retry-after", retry_after)]))
    result = await run({"url": server.url("/"), "retry": {"attempts": 2, **FAST}})

    attempts = result.jobs[0].attempts
    assert attempts is not None and attempts[0]["retryInMs"] == waited_ms
    assert result.status is ExecutionStatus.RESOLVED


async def test_no_retry_wait_outlasts_the_runs_timeout(server: TestServer) -> None:
    server.handler = failing(5, Answer(503, "busy"))
    retry = {"attempts": 5, "initialInterval": "10s", "jitter": False}
    result = await run({"url": server.url("/"), "retry": retry}, deadline_in=5.0)

    assert len(server.received) == 1  # a 10 s wait would pass the deadline: no retry
    assert result.status is ExecutionStatus.FAILED  # the node's failure, not ABORTED


async def test_without_a_policy_there_is_one_try(server: TestServer) -> None:
    server.handler = failing(1, Answer(503, "busy"))
    result = await run({"url": server.url("/")})
    assert len(server.received) == 1
    assert result.status is ExecutionStatus.FAILED
    assert result.jobs[0].attempts == [
        {"at": result.jobs[0].attempts[0]["at"], "outcome": "status", "status": 503}  # type: ignore[index]
    ]


@pytest.mark.parametrize(
    ("retry", "field"),
    [
        ({"attempts": 0}, "x.retry.attempts"),
        ({"attempts": 11}, "x.retry.attempts"),
        ({"attempts": "3"}, "x.retry.attempts"),
        ({"backoff": "linear"}, "x.retry.backoff"),
        ({"initialInterval": "5 parsecs"}, "x.retry.initialInterval"),
        ({"maxInterval": "1h"}, "x.retry.maxInterval"),  # over the 10 minute cap
        ({"jitter": "yes"}, "x.retry.jitter"),
        ({"on": []}, "x.retry.on"),
        ({"on": ["dns"]}, "x.retry.on[0]"),
        ({"on": [200]}, "x.retry.on[0]"),
        ({"tries": 3}, "x.retry.tries"),
        ("3", "x.retry"),
    ],
)
def test_bad_policies_are_refused_when_saved(retry: Any, field: str) -> None:
    problems = Request.check({"url": "https://example.com/", "retry": retry}, "x")
    assert [p.field for p in problems] == [field]


def test_a_good_policy_passes() -> None:
    retry = {
        "attempts": 5,
        "backoff": "fixed",
        "initialInterval": "200ms",
        "maxInterval": "30s",
        "jitter": True,
        "on": ["network", "timeout", 429, "5xx"],
    }
    assert Request.check({"url": "https://example.com/", "retry": retry}, "x") == []


@pytest.mark.parametrize(
    ("value", "milliseconds"),
    [
        (200, 200),
        (1.5, 1.5),
        ("200ms", 200),
        ("5s", 5000),
        ("5m", 300_000),
        ("2h", 7_200_000),
        ("1.5s", 1500),
        ("0", 0),
        (-1, None),
        (True, None),
        ("5d", None),
        ("s", None),
        (None, None),
    ],
)
def test_durations(value: Any, milliseconds: float | None) -> None:
    assert parse_duration(value) == milliseconds


@pytest.mark.parametrize(
    ("retry", "kwargs", "seconds"),
    [
        (1, {}, 0.2),
        (3, {}, 0.8),
        (20, {}, 30.0),  # capped
        (3, {"exponential": False}, 0.2),
        (3, {"jitter": 0.0}, 0.4),  # equal jitter: from half ...
        (3, {"jitter": 0.5}, 0.6),  # ... to the whole delay
    ],
)
def test_retry_delays(retry: int, kwargs: dict[str, Any], seconds: float) -> None:
    assert retry_delay(retry, 0.2, 30.0, **kwargs) == pytest.approx(seconds)


def test_retry_after_dates_and_seconds() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    later = (now + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(later, now) == 90.0
    assert parse_retry_after("Thu, 01 Jan 2025 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("tomorrow", now) is None


def test_the_policy_with_jitter_stays_in_its_upper_half() -> None:
    policy = RetryPolicy.from_config({"attempts": 3, "initialInterval": "1s", "jitter": True})
    assert policy.delay(2, draw=lambda: 0.0) == 1.0
    assert policy.delay(2, draw=lambda: 0.999) == pytest.approx(1.999)


class Overlap:
    """A slow downstream that counts how many requests it holds at once."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0

    async def __call__(self, _: Received) -> Answer:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        for _turn in range(50):  # stay busy while the other calls arrive
            await asyncio.sleep(0)
        self.in_flight -= 1
        return Answer(200, "ok")


@pytest.mark.parametrize(("per_host", "most"), [(2, 2), (100, 6)])
async def test_requests_in_flight_per_host_are_bounded(per_host: int, most: int) -> None:
    await outbound.start(("127.0.0.0/8",), per_host=per_host)
    downstream = Overlap()
    try:
        async with TestServer(downstream, host="127.0.0.2") as server:
            config = {"url": server.url("/"), "timeout": 10_000}
            results = await asyncio.gather(*(run(config) for _ in range(6)))
    finally:
        await outbound.stop()

    assert [r.status for r in results] == [ExecutionStatus.RESOLVED] * 6
    assert downstream.most == most  # the others waited for a slot, not against their timeout


class Gathering:
    """A downstream that holds every request until `count` are in flight at once."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.waiting = 0
        self.full = asyncio.Event()

    async def __call__(self, _: Received) -> Answer:
        self.waiting += 1
        if self.waiting == self.count:
            self.full.set()
        await self.full.wait()
        self.waiting -= 1
        if self.waiting == 0:
            self.full.clear()
        return Answer(200, "ok")


async def test_connections_to_a_busy_host_are_kept_for_the_next_calls() -> None:
    await outbound.start(("127.0.0.0/8",), per_host=32)
    try:
        async with TestServer(Gathering(32), host="127.0.0.2", keep_alive=True) as server:
            config = {"url": server.url("/"), "timeout": 10_000}
            for _batch in range(3):
                results = await asyncio.gather(*(run(config) for _ in range(32)))
                assert [r.status for r in results] == [ExecutionStatus.RESOLVED] * 32
    finally:
        await outbound.stop()

    assert len(server.received) == 96
    assert server.connections == 32  # the first batch's, each reused by the next two


def test_the_json_schema_describes_retries() -> None:
    import jsonschema

    from gateway.workflows.json_schema import workflow_schema

    validator = jsonschema.Draft202012Validator(workflow_schema())
    document: dict[str, Any] = {
        "key": "orders",
        "options": {
            "retry": {"schedule": ["5s", "5m", "30m", "2h", "5h", "10h", "10h"]},
            "onFailure": {"workflow": "alert-on-call", "when": "deadLetter"},
        },
        "nodes": [
            {
                "key": "notify",
                "type": "request",
                "config": {
                    "url": "https://example.com/hook",
                    "retry": {
                        "attempts": 5,
                        "backoff": "exponential",
                        "initialInterval": "200ms",
                        "maxInterval": "30s",
                        "jitter": True,
                        "on": ["network", "timeout", 429, "5xx"],
                    },
                },
            }
        ],
    }
    assert [e.message for e in validator.iter_errors(document)] == []
    document["nodes"][0]["config"]["retry"]["backoff"] = "linear"
    document["options"]["onFailure"]["when"] = "sometimes"
    assert len(list(validator.iter_errors(document))) == 2
