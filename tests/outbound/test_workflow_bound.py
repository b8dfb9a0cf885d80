"""A workflow's `options.maxOutbound` (docs/nodes.md): its request nodes' calls in flight at
once, per process, against a real HTTP server on 127.0.0.x that counts them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import SettingsFactory
from tests.httpserver import Answer, Received, TestServer
from tests.support import running_gateway

CALLS, BOUND = 30, 3


class Gate:
    """A downstream that holds the first requests until `bound` of them are in flight and
    every other call waits for a slot in the gateway (or one more arrives, which the bound
    should have stopped), then answers everything; it counts the most it held at once."""

    def __init__(self, bound: int, total: int) -> None:
        self.bound = bound
        self.total = total
        self.in_flight = 0
        self.most = 0
        self.waits = 0
        self.open = asyncio.Event()

    def check(self) -> None:
        full = self.in_flight == self.bound and self.waits >= self.total - self.bound
        if full or self.in_flight > self.bound:
            self.open.set()

    async def __call__(self, _: Received) -> Answer:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.check()
        await self.open.wait()
        self.in_flight -= 1
        return Answer(200, "ok")


class _Waits(logging.Handler):
    def __init__(self, gate: Gate) -> None:
        super().__init__(logging.DEBUG)
        self.gate = gate

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("request waits for a slot"):
            self.gate.waits += 1
            self.gate.check()


@contextmanager
def counting_waits(gate: Gate) -> Iterator[None]:
    logger = logging.getLogger("gateway.outbound")
    handler, level = _Waits(gate), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_a_workflow_bound_caps_its_calls_in_flight(settings_factory: SettingsFactory) -> None:
    downstream = Gate(BOUND, CALLS)
    settings = settings_factory(outbound_allow=("127.0.0.0/8",), executor_concurrency=CALLS)
    async with (
        TestServer(downstream, host="127.0.0.4") as server,
        running_gateway(settings) as gateway,
    ):
        await gateway.apply(f"""
key: notify
options: {{maxOutbound: {BOUND}}}
nodes:
  - {{key: hook, type: request, config: {{url: "{server.url("/hook")}", timeout: 30000}}}}
""")
        with counting_waits(downstream):
            answers = await asyncio.gather(*(gateway.post("notify", json={}) for _ in range(CALLS)))
            await gateway.drain()
        executions = await gateway.executions("notify", jobs=False)

    assert [a.status_code for a in answers] == [200] * CALLS
    assert [e["status"] for e in executions] == ["RESOLVED"] * CALLS
    assert len(server.received) == CALLS
    assert downstream.waits == CALLS - BOUND  # all the others queued in the gateway at once
    assert downstream.most == BOUND
