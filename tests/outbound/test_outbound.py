"""The request-forgery guard: every spelling of a private target is refused before any
traffic, redirects are checked hop by hop, and only allow-listed targets are reached.
All traffic in these tests goes to loopback addresses."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway import outbound
from gateway.core.errors import ConfigError
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.engine.processor import Processor, RunResult
from gateway.nodes import compile_plan
from gateway.outbound.guard import AllowList, refusal
from tests.httpserver import Answer, Received, TestServer


@pytest.fixture
async def loopback() -> AsyncIterator[TestServer]:
    """A server on 127.0.0.1 that refused calls must never reach."""
    async with TestServer(host="127.0.0.1") as server:
        yield server


@pytest.fixture(autouse=True)
async def stop_outbound() -> AsyncIterator[None]:
    yield
    await outbound.stop()


async def request(url: str, allow: tuple[str, ...] = (), **config: Any) -> RunResult:
    await outbound.start(allow)
    node = {"key": "call", "type": "request", "config": {"method": "GET", "url": url, **config}}
    return await Processor(compile_plan({"nodes": [node]}), {}, execution_id="ex-1").run()


def refused(result: RunResult) -> str:
    assert result.status is ExecutionStatus.ERROR
    [job] = result.jobs
    assert job.status is JobStatus.ERROR
    return str(job.result["error"])


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        # loopback, however it is spelled
        ("127.0.0.1", "loopback"),
        ("localhost", "loopback"),
        ("[::1]", "loopback"),
        ("2130706433", "loopback"),  # 127.0.0.1 as one decimal number
        ("0x7f.1", "loopback"),  # hex and short forms the resolver accepts
        ("127.1", "loopback"),
        ("0177.0.0.1", "Invalid IPv4 address"),  # octal: not even a URL
        ("[::ffff:127.0.0.1]", "loopback"),  # IPv4-mapped IPv6
        ("[::ffff:7f00:1]", "loopback"),
        ("[64:ff9b::7f00:1]", "loopback"),  # NAT64
        ("[2002:7f00:1::]", "loopback"),  # 6to4
        # private ranges
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("[fc00::1]", "private"),  # IPv6 unique-local
        ("[fd12:3456::1]", "private"),
        # link-local and the cloud metadata addresses
        ("169.254.169.254", "metadata"),
        ("[fd00:ec2::254]", "metadata"),
        ("100.100.100.200", "metadata"),
        ("169.254.1.1", "link-local"),
        ("[fe80::1]", "link-local"),
        # multicast, unspecified, shared and reserved space
        ("224.0.0.1", "multicast"),
        ("[ff02::1]", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("[::]", "unspecified"),
        ("100.64.0.1", "not a public address"),
        ("240.0.0.1", "reserved"),
    ],
)
async def test_private_targets_are_refused(loopback: TestServer, host: str, reason: str) -> None:
    message = refused(await request(f"http://{host}:{loopback.port}/secret"))
    assert message.startswith("refused to call")
    assert host in message
    assert reason in message
    assert loopback.received == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/file",
        "gopher://127.0.0.1:70/",
        "ws://example.com/socket",
        "http:///no-host",
    ],
)
async def test_only_http_and_https_are_called(url: str) -> None:
    assert "only http and https" in refused(await request(url))


async def test_an_allow_listed_network_is_reached(loopback: TestServer) -> None:
    result = await request(loopback.url("/ok"), allow=("127.0.0.1/32",))
    assert result.status is ExecutionStatus.RESOLVED
    assert [r.target for r in loopback.received] == ["/ok"]


async def test_an_allow_listed_host_is_reached_with_its_name(loopback: TestServer) -> None:
    result = await request(f"http://localhost:{loopback.port}/named", allow=("localhost",))
    assert result.status is ExecutionStatus.RESOLVED
    # connected to the checked address; the Host header keeps the name
    assert loopback.received[0].headers["host"] == f"localhost:{loopback.port}"


async def test_the_allow_list_is_exact(loopback: TestServer) -> None:
    message = refused(await request(loopback.url("/"), allow=("127.0.0.2/32", "other.host")))
    assert "loopback" in message
    assert loopback.received == []


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{port}/secret",  # loopback, not allow-listed
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::1]:{port}/secret",
        "file:///etc/passwd",
    ],
)
async def test_redirects_to_refused_targets_are_refused(
    loopback: TestServer, location: str
) -> None:
    target = location.format(port=loopback.port)

    async def redirect(_: Received) -> Answer:
        return Answer(302, b"", [("location", target)])

    async with TestServer(redirect, host="127.0.0.2") as allowed:
        message = refused(await request(allowed.url("/start"), allow=("127.0.0.2/32",)))
    assert message.startswith("refused to call")
    assert len(allowed.received) == 1
    assert loopback.received == []


async def test_redirects_between_allowed_targets_are_followed() -> None:
    async with TestServer(host="127.0.0.3") as final:

        async def redirect(request: Received) -> Answer:
            return Answer(307, b"", [("location", final.url("/end"))])

        async with TestServer(redirect, host="127.0.0.2") as first:
            result = await request(
                first.url("/start"), allow=("127.0.0.2", "127.0.0.3"), method="POST", data={"a": 1}
            )
    assert result.status is ExecutionStatus.RESOLVED
    assert result.jobs[0].result["data"]["target"] == "/end"
    # 307 keeps the method and the body
    assert (final.received[0].method, final.received[0].json()) == ("POST", {"a": 1})


async def test_a_redirect_loop_stops() -> None:
    async def loop(request: Received) -> Answer:
        return Answer(302, b"", [("location", "/again")])

    async with TestServer(loop, host="127.0.0.2") as server:
        result = await request(server.url("/"), allow=("127.0.0.0/8",))
    assert result.status is ExecutionStatus.FAILED
    assert result.jobs[0].result == {"error": "more than 5 redirects"}
    assert len(server.received) == 6


async def test_the_webhook_reports_a_refused_target(gateway: Any) -> None:
    await gateway.apply(
        """
key: ssrf
sync: true
nodes:
  - {key: call, type: request, config: {method: GET, url: "http://{{$context.body.host}}/"}}
  - {key: answer, type: response, config: {body: unreachable}}
"""
    )
    response = await gateway.post("ssrf", json={"host": "169.254.169.254"})
    assert response.status_code == 500
    execution = await gateway.execution(response.headers["x-execution-id"])
    assert execution["status"] == "ERROR"
    assert "refused to call 169.254.169.254" in execution["error"]
    assert [job["status"] for job in execution["jobs"]] == ["ERROR"]


@pytest.mark.parametrize(
    ("address", "refused_for"),
    [
        ("8.8.8.8", None),  # public
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),  # a mapped public address is public
        ("127.0.0.1", "a loopback address"),
        ("::ffff:10.0.0.1", "a private address (inside ::ffff:a00:1)"),
    ],
)
def test_refusal(address: str, refused_for: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == refused_for


@pytest.mark.parametrize(
    ("entries", "allowed", "hosts"),
    [
        (("127.0.0.0/8",), ["127.0.0.1", "127.9.9.9"], set()),
        (("10.1.2.3", "[::1]"), ["10.1.2.3", "::1"], set()),
        (("Hooks.Internal.", " svc "), [], {"hooks.internal", "svc"}),
    ],
)
def test_allow_list_parse(entries: tuple[str, ...], allowed: list[str], hosts: set[str]) -> None:
    allow = AllowList.parse(entries)
    assert all(allow.allows(ipaddress.ip_address(a)) for a in allowed)
    assert allow.hosts == hosts


def test_allow_list_refuses_a_bad_cidr() -> None:
    with pytest.raises(ConfigError, match="not a CIDR"):
        AllowList.parse(["10.0.0.0/33"])
