"""The example workflows in config/workflows, applied the way `make run` applies them (at
start-up from GATEWAY_WORKFLOWS_DIR), fed with real GitHub payloads and provider-shaped
events."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import SettingsFactory
from tests.support import ROOT, Gateway, running_gateway

GITHUB = ROOT / "tests" / "fixtures" / "github"
WORKFLOWS = ROOT / "config" / "workflows"


@pytest.fixture
async def examples(settings_factory: SettingsFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(settings_factory(workflows_dir=str(WORKFLOWS))) as gateway:
        yield gateway


def github_delivery(path: Path) -> tuple[bytes, dict[str, str]]:
    """A payload file as GitHub delivers it: raw JSON bytes and the delivery headers."""
    body = path.read_bytes()
    event = path.name.split(".")[0]
    headers = {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": hashlib.sha1(body).hexdigest(),
        "user-agent": "GitHub-Hookshot/test",
    }
    return body, headers


ROUTED: list[tuple[str, int, dict[str, Any]]] = [
    # ping: GitHub's first delivery after a hook is created
    ("ping.json", 200, {"pong": True, "hookId": 109948940}),
    # push: repository and pusher come from the parse rules' vars
    (
        "push.json",
        202,
        {
            "event": "push",
            "repository": "Codertocat/Hello-World",
            "pusher": "Codertocat",
            "commits": [],
        },
    ),
    # pull_request opened: the nested condition's true branch
    (
        "pull_request.opened.json",
        201,
        {"event": "pull_request", "action": "opened", "number": 2, "review": "requested"},
    ),
    # pull_request closed: the nested condition's false branch, types kept (number, bool)
    ("pull_request.closed.json", 200, {"action": "closed", "number": 2, "merged": False}),
    # issues
    ("issues.opened.json", 202, {"event": "issues", "action": "opened", "issue": 1}),
]


@pytest.mark.parametrize(("payload", "status", "expected"), ROUTED)
async def test_github_router_routes_real_payloads(
    examples: Gateway, payload: str, status: int, expected: dict[str, Any]
) -> None:
    body, headers = github_delivery(GITHUB / payload)

    response = await examples.post("github-router", content=body, headers=headers)

    assert response.status_code == status
    assert expected.items() <= response.json().items()
    execution = await examples.execution(response.headers["x-execution-id"])
    assert execution["status"] == "RESOLVED"


IGNORED = sorted(
    p.name for p in GITHUB.glob("*.json") if p.name not in {name for name, _, _ in ROUTED}
)


@pytest.mark.parametrize("payload", IGNORED)
async def test_github_router_acknowledges_other_events(examples: Gateway, payload: str) -> None:
    body, headers = github_delivery(GITHUB / payload)

    response = await examples.post("github-router", content=body, headers=headers)

    assert response.status_code == 200
    assert response.headers["x-ignored-event"] == headers["x-github-event"]
    assert response.json() == {
        "event": headers["x-github-event"],
        "delivery": headers["x-github-delivery"],
        "ignored": True,
    }


async def test_github_router_requires_the_event_header(examples: Gateway) -> None:
    body, headers = github_delivery(GITHUB / "push.json")
    del headers["x-github-event"]

    response = await examples.post("github-router", content=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["details"] == [
        {"source": "headers", "key": "x-github-event", "message": "required"}
    ]


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"authorization": f"Basic {token}"}


PAYMENTS_AUTH = basic("payments", "dev-only-password")


def payment_event(kind: str, amount: int) -> dict[str, Any]:
    return {"id": "evt_1", "type": kind, "data": {"object": {"id": "pi_1", "amount": amount}}}


@pytest.mark.parametrize(
    ("kind", "amount", "status"),
    [
        ("payment_intent.succeeded", 1200, "RESOLVED"),  # paid
        ("payment_intent.succeeded", 0, "FAILED"),  # rejectOnFalse: no positive amount
        ("payment_intent.payment_failed", 1200, "FAILED"),  # end node, endStatus -1
        ("customer.created", 0, "RESOLVED"),  # no match, continueOnNoMatch
    ],
)
async def test_payment_events_acknowledged_then_run(
    examples: Gateway, kind: str, amount: int, status: str
) -> None:
    response = await examples.post(
        "payment-events", json=payment_event(kind, amount), headers=PAYMENTS_AUTH
    )

    assert response.status_code == 200
    assert response.json() == {"received": True, "event": "evt_1"}
    await examples.drain()
    execution = await examples.execution(response.headers["x-execution-id"])
    assert execution["status"] == status


async def test_payment_events_refuse_wrong_password_and_missing_fields(examples: Gateway) -> None:
    wrong = await examples.post(
        "payment-events", json=payment_event("x", 1), headers=basic("payments", "nope")
    )
    missing = await examples.post("payment-events", json={"id": "evt_2"}, headers=PAYMENTS_AUTH)

    assert wrong.status_code == 401
    assert missing.status_code == 400
    assert [d["key"] for d in missing.json()["details"]] == ["type"]
    assert await examples.executions("payment-events") == []


async def test_slack_url_verification_echoes_the_challenge(examples: Gateway) -> None:
    challenge = {
        "token": "t",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }

    response = await examples.post(
        "slack-events",
        content=orjson.dumps(challenge),
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 200
    assert response.json() == {"challenge": challenge["challenge"]}


async def test_slack_events_are_acknowledged_and_not_kept(examples: Gateway) -> None:
    event = {"type": "event_callback", "event": {"type": "app_mention", "text": "hi"}}

    response = await examples.post("slack-events", json=event)

    assert response.status_code == 200
    assert response.json() == {"ok": True, "event": "app_mention"}
    assert await examples.executions("slack-events") == []  # keepExecutions: failed
