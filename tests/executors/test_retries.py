"""Execution retries of async workflows (docs/executions.md): a retryable failure runs again
on the workflow's schedule from the failed node, durably; when the schedule is used up the
execution is a dead letter and the failure workflow runs. Against real HTTP servers on
127.0.0.x; waits are zero, or moved with the stored resume time, never slept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from gateway.core.clock import utcnow
from gateway.core.errors import DefinitionInvalid
from gateway.store.models import Execution, Job
from tests.api.client import data
from tests.conftest import SettingsFactory
from tests.executors.test_arq import run_workers
from tests.executors.test_parking import embedded, time_passes
from tests.httpserver import Answer, Received, TestServer
from tests.support import Gateway, running_gateway

ALLOW = ("127.0.0.0/8",)


@pytest.fixture
async def allowed(settings_factory: SettingsFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(settings_factory(outbound_allow=ALLOW)) as running:
        yield running


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    async with TestServer(host="127.0.0.3") as running:
        yield running


class Downstream:
    """`/first` always answers; `/hook` answers `status` `failures` times, then 200."""

    def __init__(self, failures: int, status: int = 503) -> None:
        self.failures = failures
        self.status = status
        self.hook_calls = 0

    async def __call__(self, request: Received) -> Answer:
        if request.target == "/first":
            return Answer(200, {"token": "t-1"})
        self.hook_calls += 1
        if self.hook_calls <= self.failures:
            return Answer(self.status, "down")
        return Answer(200, {"ok": True})


def flow(server: TestServer, schedule: list[Any] | None, on_failure: str | None = None) -> str:
    options = []
    if schedule is not None:
        options.append(f"retry: {{schedule: {schedule}}}")
    if on_failure:
        options.append(f"onFailure: {{workflow: {on_failure}}}")
    return f"""
key: orders
options: {{{", ".join(options)}}}
nodes:
  - {{key: first, type: request, config: {{url: "{server.url("/first")}", onlyData: true}}}}
  - key: hook
    type: request
    config: {{url: "{server.url("/hook")}", data: {{token: "{{{{$jobsMapByNodeKey.first.token}}}}"}}}}
  - {{key: done, type: end, config: {{endStatus: 1}}}}
"""


ALERTS = """
key: alerts
nodes:
  - {key: note, type: calculation, config: {engine: cel, expression: "'alert ' + {{$context.body.workflow}}"}}
"""


async def post(gateway: Gateway) -> str:
    response = await gateway.post("orders", json={"order": 7})
    assert response.status_code == 200
    return str(response.headers["x-execution-id"])


async def jobs_of(execution_id: str) -> list[tuple[str, str]]:
    rows = (
        await Job.filter(execution_id=execution_id).order_by("id").values_list("node_key", "status")
    )
    return [(str(key), str(status)) for key, status in rows]


async def test_a_retry_resumes_at_the_failed_node(allowed: Gateway, server: TestServer) -> None:
    downstream = Downstream(failures=2)
    server.handler = downstream
    await allowed.apply(flow(server, [0, 0, 0]))

    execution_id = await post(allowed)
    await allowed.drain()
    execution = await Execution.get(id=execution_id)

    assert (execution.status, execution.reason, execution.state) == (
        "RESOLVED",
        None,
        {"retries": 2},
    )
    assert await jobs_of(execution_id) == [
        ("first", "RESOLVED"),  # run once: its result is reused by the retries
        ("hook", "FAILED"),
        ("hook", "FAILED"),
        ("hook", "RESOLVED"),
        ("done", "RESOLVED"),
    ]
    hooks = [r for r in server.received if r.target == "/hook"]
    assert [r.json() for r in hooks] == [{"token": "t-1"}] * 3
    assert len({r.headers["idempotency-key"] for r in hooks}) == 1


async def test_a_used_up_schedule_is_a_dead_letter_and_runs_the_failure_workflow(
    allowed: Gateway, server: TestServer
) -> None:
    server.handler = Downstream(failures=100)
    await allowed.apply(ALERTS, flow(server, [0, "0ms"], on_failure="alerts"))

    execution_id = await post(allowed)
    await allowed.drain()
    await allowed.drain()  # the failure workflow's execution, handed over last
    execution = await Execution.get(id=execution_id)
    alerts = await allowed.executions("alerts")

    assert (execution.status, execution.reason) == ("FAILED", "dead letter")
    assert execution.error == f"node hook: POST {server.url('/hook')} answered 503"
    assert len([r for r in server.received if r.target == "/hook"]) == 3  # 1 + 2 retries
    [alert] = alerts
    assert alert["status"] == "RESOLVED"
    [job] = await Job.filter(execution_id=alert["id"]).values("result")
    assert job["result"] == "alert orders"
    contexts: list[Any] = await Execution.filter(id=alert["id"]).values_list(
        "request__context", flat=True
    )
    context: dict[str, Any] = contexts[0]
    assert context["failureOf"] == execution_id
    body = context["body"]
    assert (body["executionId"], body["workflow"], body["failedNode"]) == (
        execution_id,
        "orders",
        "hook",
    )
    assert (body["deadLetter"], body["retries"], body["status"]) == (True, 2, "FAILED")
    assert body["request"]["body"] == {"order": 7}
    assert body["error"] == execution.error


async def test_a_failure_that_a_retry_cannot_cure_ends_at_once(
    allowed: Gateway, server: TestServer
) -> None:
    server.handler = Downstream(failures=1, status=404)  # not on the default list
    await allowed.apply(ALERTS, flow(server, [0, 0], on_failure="alerts"))

    execution_id = await post(allowed)
    await allowed.drain()
    execution = await Execution.get(id=execution_id)

    assert (execution.status, execution.reason) == ("FAILED", None)
    assert len([r for r in server.received if r.target == "/hook"]) == 1
    assert await allowed.executions("alerts") == []  # deadLetter only, by default


async def test_a_waiting_retry_is_visible_stored_and_cancellable(
    allowed: Gateway, server: TestServer
) -> None:
    server.handler = Downstream(failures=1)
    await allowed.apply(flow(server, ["1h"]))
    execution_id = await post(allowed)
    await allowed.drain()

    query = """query($id: ID!) { execution(id: $id) {
        status reason error retries nextRetryAt deadLetter jobs { nodeKey status attempts } } }"""
    waiting = (await data(allowed, query, id=execution_id))["execution"]
    await embedded(allowed).sweep()  # not due: nothing runs
    await allowed.drain()
    canceled = await data(
        allowed, "mutation($id: ID!) { cancelExecution(id: $id) { status } }", id=execution_id
    )
    await time_passes(execution_id)
    await embedded(allowed).sweep()
    await allowed.drain()

    assert (waiting["status"], waiting["reason"], waiting["retries"]) == ("QUEUED", "retry", 1)
    assert waiting["error"].endswith("answered 503") and waiting["deadLetter"] is False
    next_retry = waiting["nextRetryAt"]
    assert next_retry is not None
    assert timedelta(minutes=59) < _at(next_retry) - utcnow() < timedelta(minutes=61)
    assert waiting["jobs"][1]["attempts"][0]["status"] == 503
    assert canceled["cancelExecution"]["status"] == "CANCELED"
    assert (await Execution.get(id=execution_id)).status == "CANCELED"
    assert len([r for r in server.received if r.target == "/hook"]) == 1


async def test_a_waiting_retry_survives_a_restart(
    settings_factory: SettingsFactory, server: TestServer
) -> None:
    server.handler = Downstream(failures=1)
    async with running_gateway(settings_factory(outbound_allow=ALLOW)) as first:
        await first.apply(flow(server, ["1h"]))
        execution_id = await post(first)
        await first.drain()
    async with running_gateway(settings_factory(executor_concurrency=0)):  # only to move time
        await time_passes(execution_id)

    async with running_gateway(settings_factory(outbound_allow=ALLOW)) as second:
        await second.drain()  # start-up picks the due retry up
        finished = await Execution.get(id=execution_id)

    assert (finished.status, finished.state) == ("RESOLVED", {"retries": 1})
    assert [r.target for r in server.received] == ["/first", "/hook", "/hook"]


async def test_without_options_an_async_workflow_has_the_default_schedule(
    allowed: Gateway, server: TestServer
) -> None:
    server.handler = Downstream(failures=1)
    await allowed.apply(flow(server, None))
    execution_id = await post(allowed)
    await allowed.drain()
    execution = await Execution.get(id=execution_id)

    assert (execution.status, execution.reason) == ("QUEUED", "retry")
    assert execution.resume_at is not None
    assert timedelta(seconds=3) < execution.resume_at - utcnow() <= timedelta(seconds=5)


async def test_an_empty_schedule_makes_a_dead_letter_at_once(
    allowed: Gateway, server: TestServer
) -> None:
    server.handler = Downstream(failures=1)
    await allowed.apply(flow(server, []))
    execution_id = await post(allowed)
    await allowed.drain()
    execution = await Execution.get(id=execution_id)
    assert (execution.status, execution.reason) == ("FAILED", "dead letter")
    assert execution.state["kind"] == "retry"  # where a bulk resume would start


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ("retry: {schedule: [5s, soon]}", "options.retry.schedule[1]"),
        ("retry: {schedule: [8d]}", "options.retry.schedule[0]"),  # not a unit
        ("retry: {schedule: [200h]}", "options.retry.schedule[0]"),  # over 7 days
        ("retry: {schedule: 5s}", "options.retry.schedule"),
        ("retry: {schedule: [" + ", ".join(["1s"] * 21) + "]}", "options.retry.schedule"),
        ("retry: {every: 5s}", "options.retry"),
        ("onFailure: {workflow: 'no spaces'}", "options.onFailure.workflow"),
        ("onFailure: {workflow: orders}", "options.onFailure.workflow"),  # itself
        ("onFailure: {workflow: alerts, when: sometimes}", "options.onFailure.when"),
    ],
)
async def test_bad_options_are_refused(gateway: Gateway, options: str, field: str) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        await gateway.apply(f"key: orders\noptions: {{{options}}}\nnodes: []")
    assert [p.field for p in caught.value.problems] == [field]


async def test_a_sync_workflow_takes_no_execution_retries(gateway: Gateway) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        await gateway.apply("key: orders\nsync: true\noptions: {retry: {schedule: [5s]}}")
    assert [p.field for p in caught.value.problems] == ["options.retry.schedule"]
    await gateway.apply("key: orders\nsync: true\noptions: {retry: {schedule: []}}")
    with pytest.raises(DefinitionInvalid) as caught:
        await gateway.apply("key: orders\nsync: true\noptions: {onFailure: {workflow: x}}")
    assert [p.field for p in caught.value.problems] == ["options.onFailure"]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_workers_retry_and_dead_letter_through_redis(
    arq_settings: SettingsFactory, server: TestServer
) -> None:
    server.handler = Downstream(failures=100)
    settings = arq_settings(outbound_allow=ALLOW)
    async with running_gateway(settings) as gateway:
        await gateway.apply(ALERTS, flow(server, [0, 0], on_failure="alerts"))
        execution_id = await post(gateway)
        await gateway.drain()
        for _ in range(10):  # a burst worker may stop before a retry it handed on arrives
            await run_workers(settings, sweep=True)
            execution = await Execution.get(id=execution_id)
            alerts = await gateway.executions("alerts")
            if alerts and alerts[0]["status"] == "RESOLVED":
                break

    assert (execution.status, execution.reason) == ("FAILED", "dead letter")
    assert len([r for r in server.received if r.target == "/hook"]) == 3
    assert [a["status"] for a in alerts] == ["RESOLVED"]


async def test_metrics_count_attempts_retries_and_dead_letters(
    allowed: Gateway, server: TestServer
) -> None:
    server.handler = Downstream(failures=100)
    await allowed.apply(flow(server, [0]))
    await post(allowed)
    await allowed.drain()

    text = (await allowed.client.get("/metrics")).text

    assert 'gateway_request_attempts_total{outcome="ok",workflow="orders"} 1.0' in text
    assert 'gateway_request_attempts_total{outcome="status",workflow="orders"} 2.0' in text
    assert 'gateway_execution_retries_total{workflow="orders"} 1.0' in text
    assert 'gateway_dead_letters_total{workflow="orders"} 1.0' in text
    assert 'gateway_dead_letters_stored{workflow="orders"} 1.0' in text
    assert "gateway_retries_waiting 0.0" in text


async def test_every_failure_runs_the_failure_workflow_but_never_for_itself(
    allowed: Gateway, server: TestServer
) -> None:
    server.handler = Downstream(failures=100, status=404)  # not retryable
    alerts = """
key: alerts
options: {onFailure: {workflow: orders, when: everyFailure}}
nodes:
  - {key: fail, type: end, config: {endStatus: -1}}
"""  # the failure workflow fails too, and names orders as its own
    orders = flow(server, [0], on_failure="alerts").replace(
        "onFailure: {workflow: alerts}", "onFailure: {workflow: alerts, when: everyFailure}"
    )
    await allowed.apply(alerts, orders)

    execution_id = await post(allowed)
    await allowed.drain()
    await allowed.drain()

    assert (await Execution.get(id=execution_id)).reason is None  # not a dead letter
    [alert] = await allowed.executions("alerts")
    assert alert["status"] == "FAILED"
    assert len(await allowed.executions("orders")) == 1  # alerts' failure started no orders


async def test_a_retry_inside_a_branch_goes_on_after_the_branch(
    allowed: Gateway, server: TestServer
) -> None:
    server.handler = Downstream(failures=2)
    document = f"""
key: orders
options: {{retry: {{schedule: [0, 0, 0]}}}}
nodes:
  - key: check
    type: condition
    config: {{rejectOnFalse: false, calculation: {{group: {{type: and, calculations: [{{calculator: equal, operands: [1, 1]}}]}}}}}}
    branches:
      "1":
        - {{key: first, type: request, config: {{url: "{server.url("/first")}", onlyData: true}}}}
        - {{key: hook, type: request, config: {{url: "{server.url("/hook")}"}}}}
  - {{key: done, type: end, config: {{endStatus: 1}}}}
"""
    await allowed.apply(document)
    execution_id = await post(allowed)
    await allowed.drain()

    assert (await Execution.get(id=execution_id)).status == "RESOLVED"
    assert await jobs_of(execution_id) == [
        ("check", "RESOLVED"),
        ("first", "RESOLVED"),
        ("hook", "FAILED"),
        ("hook", "FAILED"),  # the second retry resumed from the first retry's state
        ("hook", "RESOLVED"),
        ("done", "RESOLVED"),  # after the branch, once
    ]


async def test_a_failure_inside_a_loop_runs_the_loop_again_whole(
    allowed: Gateway, server: TestServer
) -> None:
    server.handler = Downstream(failures=1)
    document = f"""
key: orders
options: {{retry: {{schedule: [0]}}}}
nodes:
  - {{key: first, type: request, config: {{url: "{server.url("/first")}", onlyData: true}}}}
  - key: each
    type: loop
    config: {{target: 2}}
    branches:
      "0": [{{key: hook, type: request, config: {{url: "{server.url("/hook")}"}}}}]
  - {{key: done, type: end, config: {{endStatus: 1}}}}
"""
    await allowed.apply(document)
    execution_id = await post(allowed)
    await allowed.drain()

    assert (await Execution.get(id=execution_id)).status == "RESOLVED"
    assert await jobs_of(execution_id) == [
        ("first", "RESOLVED"),
        ("each", "FAILED"),
        ("hook", "FAILED"),
        ("each", "RESOLVED"),  # the loop again, from its first item
        ("hook", "RESOLVED"),
        ("hook", "RESOLVED"),
        ("done", "RESOLVED"),
    ]


async def test_a_sync_workflows_node_retries_stay_within_its_timeout(
    allowed: Gateway, server: TestServer
) -> None:
    server.handler = Downstream(failures=100)
    document = f"""
key: orders
sync: true
options: {{timeout: 2000}}
nodes:
  - key: hook
    type: request
    config: {{url: "{server.url("/hook")}", retry: {{attempts: 5, initialInterval: 10s}}}}
"""
    await allowed.apply(document)
    answer = await allowed.post("orders", json={})

    assert answer.status_code == 500  # the node's failure, not a 408 timeout
    assert answer.json()["status"] == "FAILED"
    assert len(server.received) == 1  # a 10 s wait would outlast the 2 s timeout
