"""A GraphQL answer over its byte budget fails with one clear error, not a huge answer."""

from __future__ import annotations

import pytest

from tests.api.client import call, data
from tests.conftest import SettingsFactory
from tests.support import running_gateway

HOOK = """
key: hook
nodes:
  - {key: done, type: end, config: {endStatus: 1}}
"""


def aliased(count: int) -> str:
    pages = " ".join(
        f"a{i}: executions(first: 20) {{ edges {{ node {{ id context rawBody }} }} }}"
        for i in range(count)
    )
    return "{ " + pages + " }"


@pytest.mark.sqlite_only  # the budget is counted in the API, whatever the database
async def test_an_answer_over_the_budget_is_refused(settings_factory: SettingsFactory) -> None:
    settings = settings_factory(graphql_max_answer=1_000_000)
    async with running_gateway(settings) as gateway:
        await gateway.apply(HOOK)
        for i in range(5):
            assert (await gateway.post("hook", json={"i": i, "pad": "x" * 50_000})).is_success
        await gateway.drain()

        small = await data(gateway, aliased(1))
        answer = await call(gateway, aliased(10))

    assert len(small["a0"]["edges"]) == 5  # five executions of 2 x 50 KB: within the budget
    assert answer["data"] is None
    [problem] = answer["errors"]
    assert problem["extensions"]["code"] == "ANSWER_TOO_LARGE"
    assert problem["message"].startswith("the answer is over 1000000 bytes")
