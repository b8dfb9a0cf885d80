"""What unauthenticated callers can make the route cache keep: nothing without bound."""

from __future__ import annotations

import pytest

from tests.support import Gateway

HOOK = """
key: hook
sync: true
nodes:
  - {key: ok, type: response, config: {statusCode: 200, body: {ok: true}}}
"""


@pytest.mark.sqlite_only  # the cache is in memory: the database behind it does not matter
async def test_unknown_60kb_keys_are_not_cached(gateway: Gateway) -> None:
    await gateway.apply(HOOK)
    assert (await gateway.post("hook", json={})).status_code == 200
    before = gateway.runtime.registry.cached_keys

    for i in range(1_500):
        key = f"{i:05d}" + "k" * 60_000
        response = await gateway.client.post(f"/api/webhook:trigger/{key}", json={})
        assert response.status_code == 404

    assert gateway.runtime.registry.cached_keys == before
    assert (await gateway.post("hook", json={})).status_code == 200


async def test_unknown_keys_of_a_real_length_are_remembered_in_a_bounded_set(
    gateway: Gateway,
) -> None:
    await gateway.apply(HOOK)
    bound = gateway.runtime.registry.max_unknown

    for i in range(bound + 500):
        response = await gateway.client.post(f"/api/webhook:trigger/unknown-{i:0120d}", json={})
        assert response.status_code == 404

    count, length = gateway.runtime.registry.cached_keys
    assert count <= bound + 1  # the unknown keys' LRU, and nothing else but real routes
    assert length <= (bound + 1) * 128
    assert (await gateway.post("hook", json={})).status_code == 200
