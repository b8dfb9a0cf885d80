"""Rate limits per trigger and failed-authentication limits per client (docs/security.md):
429 with Retry-After, other triggers and clients unaffected, shared through Redis across
processes, and never a 500 when Redis is away."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from redis.exceptions import RedisError

from gateway.core.errors import DefinitionInvalid, Rejected
from gateway.service.limits import (
    AUTH_FAILURES,
    Decision,
    Limits,
    MemoryCounter,
    Rate,
    RedisCounter,
    gcra,
)
from gateway.webhook.clients import client_address
from tests import signing
from tests.conftest import SettingsFactory
from tests.databases import in_ci
from tests.processes import serve
from tests.support import Gateway, running_gateway

REDIS_URL = "redis://127.0.0.1:6379/0"

# --- the algorithm ---------------------------------------------------------------------

TWO_PER_20S = Rate(interval=10.0, burst=2)


@pytest.mark.parametrize(
    ("tat", "now", "cost", "expected", "stored"),
    [
        (None, 100.0, 1, Decision(True), 110.0),  # first call: a slot taken
        (110.0, 100.0, 1, Decision(True), 120.0),  # second call at once: the burst
        (120.0, 100.0, 1, Decision(False, 10.0), None),  # third: wait until one slot frees
        (120.0, 110.0, 1, Decision(True), 130.0),  # 10 s later: one slot again
        (120.0, 100.0, 0, Decision(False, 10.0), None),  # asking only: same answer
        (110.0, 100.0, 0, Decision(True), None),  # asking only: nothing stored
        (50.0, 100.0, 1, Decision(True), 110.0),  # long idle: a full bucket, not more
    ],
)
def test_gcra(
    tat: float | None, now: float, cost: int, expected: Decision, stored: float | None
) -> None:
    assert gcra(tat, now, TWO_PER_20S, cost) == (expected, stored)


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ({"rate": 10}, Rate(0.1, 10)),  # per defaults to 1 s, burst to rate
        ({"rate": 10, "per": 60}, Rate(6.0, 10)),
        ({"rate": 1, "per": 2, "burst": 5}, Rate(2.0, 5)),
        (None, None),
    ],
)
def test_rate_from_option(option: dict[str, Any] | None, expected: Rate | None) -> None:
    assert Rate.from_option(option) == expected


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        (("203.0.113.7", 5000), "203.0.113.7"),
        (("2001:db8:1:2:aaaa::1", 5000), "2001:db8:1:2::/64"),  # one /64 is one client
        (("2001:db8:1:2:bbbb::9", 5000), "2001:db8:1:2::/64"),
        (("testclient", 50000), "testclient"),  # not an address: used as it is
        (None, "unknown"),  # a Unix socket has no peer address
    ],
)
def test_client_address(client: tuple[str, int] | None, expected: str) -> None:
    assert client_address({"client": client}) == expected


async def test_memory_counter_forgets_full_buckets() -> None:
    now = [0.0]
    counter = MemoryCounter(clock=lambda: now[0], sweep_at=3)
    for key in "abcd":  # the fourth key sweeps, finds every bucket in use, keeps them
        await counter.hit(key, TWO_PER_20S, 1)
    now[0] = 100.0
    for key in "efghi":  # the ninth key sweeps again: a to d are full again by now
        await counter.hit(key, TWO_PER_20S, 1)

    assert sorted(counter._tats) == list("efghi")


async def test_memory_counter_may_refuse_only_keys_it_has_counted() -> None:
    # A guarded call skips the failed-authentication check for a client never counted.
    now = [0.0]
    counter = MemoryCounter(clock=lambda: now[0], sweep_at=1)
    assert not counter.may_refuse("auth:1:a")
    await counter.hit("auth:1:a", TWO_PER_20S, 1)
    await counter.hit("auth:1:a", TWO_PER_20S, 1)
    assert counter.may_refuse("auth:1:a")
    assert not (await counter.hit("auth:1:a", TWO_PER_20S, 0)).allowed
    now[0] = 100.0
    await counter.hit("auth:1:b", TWO_PER_20S, 1)  # sweeps: a's bucket is full again
    assert not counter.may_refuse("auth:1:a")


# --- through the endpoint, counted in memory and in Redis ------------------------------


@pytest.fixture(scope="session")
def redis_available() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except (RedisError, OSError) as exc:
        if in_ci():
            pytest.fail(f"Redis is required in CI: {exc}")
        pytest.skip(f"Redis not reachable: {exc}")


@pytest.fixture
def redis_prefix(redis_available: None) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"gw-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=["memory", "redis"])
async def limited(
    request: pytest.FixtureRequest, settings_factory: SettingsFactory
) -> AsyncIterator[Gateway]:
    """A gateway counting in memory, or in the real Redis under a fresh prefix."""
    overrides: dict[str, Any] = {}
    if request.param == "redis":
        overrides = {
            "redis_url": REDIS_URL,
            "redis_prefix": request.getfixturevalue("redis_prefix"),
        }
    async with running_gateway(settings_factory(**overrides)) as gateway:
        yield gateway


LIMITED = """
key: %(key)s
sync: true
trigger: {rateLimit: %(limit)s}
nodes: [{key: reply, type: response, config: {statusCode: 200, body: {ok: true}}}]
"""


def limited_workflow(key: str, limit: str = "{rate: 3, per: 60}") -> str:
    return LIMITED % {"key": key, "limit": limit}


async def statuses(gateway: Gateway, key: str, calls: int, **kwargs: Any) -> list[int]:
    return [(await gateway.post(key, **kwargs)).status_code for _ in range(calls)]


async def test_rate_limit_answers_429_beyond_the_burst(limited: Gateway) -> None:
    await limited.apply(limited_workflow("limited"))

    answered = await statuses(limited, "limited", 3)
    refused = await limited.post("limited", json={})

    assert answered == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["error"] == "too_many_requests"
    assert refused.headers["retry-after"] == "20"  # one call every 60/3 s
    assert len(await limited.executions("limited")) == 3


async def test_rate_limit_leaves_other_triggers_alone(limited: Gateway) -> None:
    await limited.apply(
        limited_workflow("limited", "{rate: 1, per: 3600}"),
        limited_workflow("other", "{rate: 1, per: 3600}"),
        limited_workflow("open").replace("trigger: {rateLimit: {rate: 3, per: 60}}", ""),
    )

    assert await statuses(limited, "limited", 2) == [200, 429]
    assert await statuses(limited, "other", 2) == [200, 429]
    assert await statuses(limited, "open", 5) == [200] * 5


async def test_burst_larger_than_rate(limited: Gateway) -> None:
    await limited.apply(limited_workflow("limited", "{rate: 1, per: 10, burst: 4}"))

    assert await statuses(limited, "limited", 5) == [200, 200, 200, 200, 429]


GUARDED = """
key: %(key)s
sync: true
trigger: {basicAuthentication: {username: hooks, password: right-password-1}}
nodes: [{key: reply, type: response, config: {statusCode: 200, body: {ok: true}}}]
"""
RIGHT = ("hooks", "right-password-1")
WRONG = ("hooks", "wrong-password")


def other_client(gateway: Gateway, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=gateway.app, client=(address, 4000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway.test")


async def test_repeated_auth_failures_block_that_client_on_that_trigger(limited: Gateway) -> None:
    await limited.apply(GUARDED % {"key": "guarded"}, GUARDED % {"key": "sibling"})

    failures = await statuses(limited, "guarded", AUTH_FAILURES.burst, auth=WRONG)
    blocked = await limited.post("guarded", auth=RIGHT)
    async with other_client(limited, "198.51.100.23") as elsewhere:
        other = await elsewhere.post(await limited.url("guarded"), auth=RIGHT)
    sibling = await limited.post("sibling", auth=RIGHT)

    assert failures == [401] * AUTH_FAILURES.burst
    assert blocked.status_code == 429  # even with the right password: no more guessing
    assert blocked.headers["retry-after"] == "30"
    assert (other.status_code, sibling.status_code) == (200, 200)


async def test_successful_calls_do_not_count_as_failures(limited: Gateway) -> None:
    await limited.apply(GUARDED % {"key": "guarded"})

    calls = await statuses(limited, "guarded", AUTH_FAILURES.burst + 5, auth=RIGHT)
    calls += await statuses(limited, "guarded", AUTH_FAILURES.burst - 1, auth=WRONG)

    assert calls == [200] * (AUTH_FAILURES.burst + 5) + [401] * (AUTH_FAILURES.burst - 1)
    assert (await limited.post("guarded", auth=RIGHT)).status_code == 200


async def test_signature_failures_count_too(limited: Gateway) -> None:
    await limited.apply(
        """
key: signed
sync: true
trigger: {signature: {preset: github, secret: the-real-secret}}
nodes: [{key: reply, type: response, config: {statusCode: 200, body: {ok: true}}}]
"""
    )
    body = b"{}"
    headers = {"content-type": "application/json"}

    failures = await statuses(
        limited,
        "signed",
        AUTH_FAILURES.burst,
        content=body,
        headers=headers | signing.github("guess", body),
    )
    genuine = await limited.post(
        "signed", content=body, headers=headers | signing.github("the-real-secret", body)
    )

    assert failures == [401] * AUTH_FAILURES.burst
    assert genuine.status_code == 429


async def test_429_comes_before_authentication_and_the_body(
    settings_factory: SettingsFactory,
) -> None:
    limit = "{rate: 1, per: 60}"
    document = (GUARDED % {"key": "both"}).replace("trigger: {", f"trigger: {{rateLimit: {limit}, ")
    async with running_gateway(settings_factory(body_limit=10)) as gateway:
        await gateway.apply(document)
        first = await gateway.post("both", auth=RIGHT, json={})
        unauthenticated = await gateway.post("both", content=b"x" * 100)

    assert first.status_code == 200
    assert unauthenticated.status_code == 429


async def test_unreachable_redis_fails_open_with_one_warning(
    settings_factory: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_factory(redis_url="redis://127.0.0.1:1/0")  # nothing listens there
    async with running_gateway(settings) as gateway:
        await gateway.apply(
            limited_workflow("limited", "{rate: 1, per: 3600}"), GUARDED % {"key": "guarded"}
        )
        limited_calls = await statuses(gateway, "limited", 3)
        guarded_calls = await statuses(gateway, "guarded", 2, auth=WRONG)
        guarded_calls += await statuses(gateway, "guarded", 1, auth=RIGHT)

    assert limited_calls == [200, 200, 200]
    assert guarded_calls == [401, 401, 200]  # authentication is still checked
    warnings = [r for r in caplog.records if r.name == "gateway.limits"]
    assert len(warnings) == 1
    assert "Redis unavailable" in warnings[0].getMessage()


def basic(username: str, password: str) -> dict[str, str]:
    return {
        "authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    }


async def test_two_servers_sharing_redis_share_the_limit(
    database_url: str, tmp_path: Path, redis_prefix: str
) -> None:
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    document = limited_workflow("shared", "{rate: 3, per: 60}")
    (workflows / "shared.yaml").write_text(
        document.replace("trigger: {", "trigger: {key: shared-limit-trigger-key-0001, ")
    )
    env = {"GATEWAY_REDIS_URL": REDIS_URL, "GATEWAY_REDIS_PREFIX": redis_prefix}
    url = "/api/webhook:trigger/shared-limit-trigger-key-0001"
    async with (
        serve(database_url, tmp_path, GATEWAY_WORKFLOWS_DIR=str(workflows), **env) as first,
        serve(database_url, tmp_path, GATEWAY_WORKFLOWS_DIR="", **env) as second,
        httpx.AsyncClient() as client,
    ):
        answers = []
        for server in (first, second, first, second, second):
            answers.append((await client.post(server.base_url + url, json={})).status_code)

    assert answers == [200, 200, 200, 429, 429]


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("10", [("trigger.rateLimit", "must be a mapping")]),
        ("{per: 60}", [("trigger.rateLimit.rate", "required")]),
        ("{rate: 0}", [("trigger.rateLimit.rate", "required")]),
        ("{rate: 2.5}", [("trigger.rateLimit.rate", "required")]),
        (
            "{rate: 5, per: 0, burst: 0}",
            [
                ("trigger.rateLimit.per", "must be seconds"),
                ("trigger.rateLimit.burst", "must be calls"),
            ],
        ),
        ("{rate: 5, per: true}", [("trigger.rateLimit.per", "must be seconds")]),
        ("{rate: 5, window: 60}", [("trigger.rateLimit.window", "unknown field")]),
    ],
)
async def test_invalid_rate_limits_are_refused_with_every_problem(
    gateway: Gateway, limit: str, expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(DefinitionInvalid) as raised:
        await gateway.apply(limited_workflow("limited", limit))

    found = [(p.field, p.message) for p in raised.value.problems]
    assert [f for f, _ in found] == [f for f, _ in expected]
    assert all(m in got for (_, m), (_, got) in zip(expected, found, strict=True)), found


@pytest.mark.parametrize(
    "now", [40123.117, 1e6 + 0.1, 7.3e5 + 1 / 3]
)  # clocks that once rounded up
def test_a_fresh_clients_first_call_is_always_allowed(now: float) -> None:
    decision, stored = gcra(None, now, Rate(interval=3600.0, burst=1), 1)

    assert decision.allowed and stored == now + 3600.0


def test_first_calls_are_allowed_whatever_the_clock() -> None:
    clocks = [i * 1.37 + 0.1 for i in range(1, 20_000)]

    refused = [now for now in clocks if not gcra(None, now, Rate(3600.0, 1), 1)[0].allowed]

    assert refused == []


# --- failed-authentication counts announced across processes ----------------------------


async def test_failures_counted_elsewhere_are_heard_and_unheard_keys_skip_redis(
    redis_prefix: str,
) -> None:
    """Three processes' counters on one Redis: one counts failures, one was listening
    then, one starts afterwards. Both others refuse that client; keys nobody failed on
    are answered without asking Redis."""
    prefix = f"{redis_prefix}:limits"
    counting, listening, late = (RedisCounter(REDIS_URL, prefix) for _ in range(3))
    key = "auth:7:203.0.113.9"
    try:
        await listening.start()
        await listening.synced()
        not_yet = listening.may_refuse(key)
        for _ in range(AUTH_FAILURES.burst):
            await Limits(counting).failed(7, "203.0.113.9")
        await listening.synced()
        await late.start()
        await late.synced()

        heard = [listening.may_refuse(key), late.may_refuse(key)]
        refusals = []
        for counter in (listening, late):
            with pytest.raises(Rejected) as refused:
                await Limits(counter).admit(7, None, "203.0.113.9")
            refusals.append(refused.value.status)
        others = [listening.may_refuse("auth:7:198.51.100.1"), late.may_refuse("auth:8:x")]
        unstarted = counting.may_refuse("auth:9:anyone")
    finally:
        for counter in (counting, listening, late):
            await counter.close()

    assert not_yet is False  # listening, nothing announced: no round trip
    assert heard == [True, True]
    assert refusals == [429, 429]
    assert others == [False, False]
    assert unstarted is True  # not listening: every check asks Redis


async def test_foreign_messages_on_the_channel_are_ignored(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    counter = RedisCounter(REDIS_URL, f"{redis_prefix}:limits")
    try:
        await counter.start()
        await counter.synced()
        for text in ("not ours", "key notanumber", ""):
            await counter.redis.publish(counter.channel, text)
        await counter.synced()
        still_listening = counter.may_refuse("auth:1:203.0.113.1") is False
    finally:
        await counter.close()

    assert still_listening
    assert [r for r in caplog.records if r.name == "gateway.limits"] == []
