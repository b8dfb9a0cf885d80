"""The integration guides of docs/integrations/, followed to the letter: each guide's
workflow document applied as printed, then called the way the provider calls it — signed
with the provider's scheme, forged, tampered with or replayed."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from standardwebhooks.webhooks import Webhook
from twilio.request_validator import RequestValidator

from tests import signing
from tests.conftest import SettingsFactory
from tests.support import ROOT, Gateway, running_gateway

GUIDES = ROOT / "docs" / "integrations"
GITHUB = ROOT / "tests" / "fixtures" / "github"
PAYLOADS = sorted(p.name for p in GITHUB.glob("*.json"))
SECRETS = {
    "GITHUB_WEBHOOK_SECRET": "gh-test-secret-5f1c0d9e7a",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_9b2e44c1d0",
    "SLACK_SIGNING_SECRET": "slack-test-secret-8d7e21",
    "SHOPIFY_WEBHOOK_SECRET": "shopify-test-secret-3a6f90",
    "STANDARD_WEBHOOKS_SECRET": "whsec_" + base64.b64encode(b"standard-webhooks-test-24b").decode(),
    "TWILIO_AUTH_TOKEN": "5ae0b2c94f1d3e8a7b6c5d4e3f2a1b0c",
}
# Signatures are made when a test runs, not when it is collected: timestamps must not age.
Signer = Callable[[], dict[str, str]]
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def guide_document(name: str, block: int = 0) -> str:
    """The workflow document a guide tells the reader to save: its first YAML block (or
    another one, for a guide's second workflow)."""
    blocks = YAML_BLOCK.findall((GUIDES / f"{name}.md").read_text())
    assert len(blocks) > block, f"{name}.md has no YAML block {block}"
    return str(blocks[block])


GUIDE_NAMES = ("github", "stripe", "slack", "shopify", "standard-webhooks", "twilio")


@pytest.fixture
async def guides(settings_factory: SettingsFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(settings_factory(env=SECRETS)) as gateway:
        await gateway.apply(
            *(guide_document(n) for n in GUIDE_NAMES), guide_document("slack", block=1)
        )
        yield gateway


# --- GitHub: every real payload, delivered as GitHub delivers it ----------------------


def github_delivery(name: str, secret: str) -> tuple[bytes, dict[str, str]]:
    body = (GITHUB / name).read_bytes()
    headers = {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/044aadd",
        "x-github-event": name.split(".")[0],
        "x-github-delivery": hashlib.sha1(body).hexdigest(),
        "x-github-hook-id": "292430182",
        **signing.github(secret, body),
    }
    return body, headers


def github_answer(name: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """What the guide's router answers for a payload: values its parse rules extracted."""
    payload = orjson.loads((GITHUB / name).read_bytes())
    event = headers["x-github-event"]
    repository = (payload.get("repository") or {}).get("full_name")
    sender = payload["sender"]["login"]
    if event == "ping":
        return 200, {"pong": True, "hookId": payload["hook_id"]}
    if event == "push":
        return 202, {
            "event": "push",
            "repository": repository,
            "ref": payload["ref"],
            "pusher": sender,
        }
    return 200, {
        "event": event,
        "action": payload.get("action"),
        "delivery": headers["x-github-delivery"],
        "repository": repository,
        "sender": sender,
    }


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_github_signed_deliveries_are_routed(guides: Gateway, payload: str) -> None:
    body, headers = github_delivery(payload, SECRETS["GITHUB_WEBHOOK_SECRET"])

    response = await guides.post("github", content=body, headers=headers)

    assert (response.status_code, response.json()) == github_answer(payload, headers)
    execution = await guides.execution(response.headers["x-execution-id"])
    assert execution["status"] == "RESOLVED"


def forgeries(payload: str) -> list[tuple[str, bytes, dict[str, str]]]:
    body, headers = github_delivery(payload, SECRETS["GITHUB_WEBHOOK_SECRET"])
    _, wrong = github_delivery(payload, "not-the-secret")
    unsigned = {k: v for k, v in headers.items() if k != "x-hub-signature-256"}
    tampered = body.replace(b"Codertocat", b"Codertocaf", 1)
    assert tampered != body
    return [
        ("tampered body", tampered, headers),
        ("wrong secret", body, wrong),
        ("no signature", body, unsigned),
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_github_forged_deliveries_are_refused(guides: Gateway, payload: str) -> None:
    for case, body, headers in forgeries(payload):
        response = await guides.post("github", content=body, headers=headers)

        assert response.status_code == 401, case
        assert response.json()["error"] == "invalid_signature", case
    assert await guides.executions() == []


async def test_github_signed_delivery_missing_values_lists_each(guides: Gateway) -> None:
    body = orjson.dumps({"zen": "Keep it logically awesome.", "hook_id": 1})  # no sender
    headers = {
        "content-type": "application/json",
        "x-github-event": "ping",
        **signing.github(SECRETS["GITHUB_WEBHOOK_SECRET"], body),
    }

    response = await guides.post("github", content=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["details"] == [
        {"source": "headers", "key": "x-github-delivery", "message": "required"},
        {"source": "body", "key": "sender.login", "message": "required"},
    ]
    assert await guides.executions() == []


# --- Stripe ----------------------------------------------------------------------------

STRIPE_EVENT = orjson.dumps(
    {
        "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
        "object": "event",
        "type": "payment_intent.succeeded",
        "livemode": False,
        "data": {"object": {"id": "pi_3NG8Dt2eZvKYlo2C1", "object": "payment_intent"}},
    }
)
STRIPE = SECRETS["STRIPE_WEBHOOK_SECRET"]


@pytest.mark.parametrize(
    "headers",
    [
        lambda: signing.stripe(STRIPE, STRIPE_EVENT),  # signed now
        lambda: signing.stripe(STRIPE, STRIPE_EVENT, time.time() - 290),  # delayed, within 300 s
        lambda: signing.stripe(STRIPE, STRIPE_EVENT, None, "whsec_old"),  # secret being rolled
    ],
)
async def test_stripe_signed_events_are_accepted(guides: Gateway, headers: Signer) -> None:
    response = await guides.post(
        "stripe", content=STRIPE_EVENT, headers={"content-type": "application/json", **headers()}
    )

    assert response.status_code == 200
    assert response.json() == {
        "received": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
        "type": "payment_intent.succeeded",
    }
    await guides.drain()
    execution = await guides.execution(response.headers["x-execution-id"])
    assert execution["status"] == "RESOLVED"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        # replayed: a genuine signature, ten minutes old
        (STRIPE_EVENT, lambda: signing.stripe(STRIPE, STRIPE_EVENT, time.time() - 600)),
        # a timestamp in the future, beyond the tolerance
        (STRIPE_EVENT, lambda: signing.stripe(STRIPE, STRIPE_EVENT, time.time() + 600)),
        # signed with another endpoint's secret
        (STRIPE_EVENT, lambda: signing.stripe("whsec_other", STRIPE_EVENT)),
        # the body changed after signing
        (
            STRIPE_EVENT.replace(b"succeeded", b"canceled"),
            lambda: signing.stripe(STRIPE, STRIPE_EVENT),
        ),
        # no Stripe-Signature header
        (STRIPE_EVENT, dict),
        # a signature without its timestamp
        (STRIPE_EVENT, lambda: {"stripe-signature": "v1=" + "0" * 64}),
    ],
)
async def test_stripe_forged_or_replayed_events_are_refused(
    guides: Gateway, body: bytes, headers: Signer
) -> None:
    response = await guides.post(
        "stripe", content=body, headers={"content-type": "application/json", **headers()}
    )

    assert response.status_code == 401
    assert await guides.executions() == []


# --- Slack -----------------------------------------------------------------------------

SLACK = SECRETS["SLACK_SIGNING_SECRET"]
CHALLENGE = orjson.dumps(
    {
        "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
)
EVENT = orjson.dumps(
    {
        "type": "event_callback",
        "event_id": "Ev08MFMKH6",
        "event": {"type": "app_mention", "text": "hi"},
    }
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (CHALLENGE, {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}),
        (EVENT, {"ok": True, "event": "app_mention"}),
    ],
)
async def test_slack_signed_requests_are_answered(
    guides: Gateway, body: bytes, expected: dict[str, Any]
) -> None:
    headers = {"content-type": "application/json", **signing.slack(SLACK, body)}

    response = await guides.post("slack", content=body, headers=headers)

    assert (response.status_code, response.json()) == (200, expected)


async def test_slack_slash_commands_are_answered(guides: Gateway) -> None:
    # A slash command is a form without `type`: the guide's workflow answers it.
    form = urlencode(
        {"token": "x", "team_id": "T1", "command": "/deploy", "text": "staging", "user_id": "U1"}
    ).encode()
    headers = {"content-type": "application/x-www-form-urlencoded", **signing.slack(SLACK, form)}

    response = await guides.post("slack", content=form, headers=headers)

    assert (response.status_code, response.json()) == (
        200,
        {"response_type": "ephemeral", "text": "Got /deploy staging"},
    )


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (EVENT, lambda: signing.slack(SLACK, EVENT, time.time() - 301)),  # replayed after 5 minutes
        (EVENT, lambda: signing.slack("another-app-secret", EVENT)),  # another app's secret
        (EVENT.replace(b"hi", b"ho"), lambda: signing.slack(SLACK, EVENT)),  # body changed
        # the timestamp header changed to look fresh: the signature covers it
        (
            EVENT,
            lambda: (
                signing.slack(SLACK, EVENT, time.time() - 900)
                | {"x-slack-request-timestamp": str(int(time.time()))}
            ),
        ),
        (EVENT, lambda: {k: v for k, v in signing.slack(SLACK, EVENT).items() if "sig" in k}),
        (EVENT, dict),  # unsigned
    ],
)
async def test_slack_forged_or_replayed_requests_are_refused(
    guides: Gateway, body: bytes, headers: Signer
) -> None:
    response = await guides.post(
        "slack", content=body, headers={"content-type": "application/json", **headers()}
    )

    assert response.status_code == 401
    assert await guides.executions() == []


# --- Shopify ---------------------------------------------------------------------------

SHOPIFY = SECRETS["SHOPIFY_WEBHOOK_SECRET"]
ORDER = orjson.dumps(
    {"id": 820982911946154508, "email": "jon@example.com", "total_price": "403.00"}
)
SHOPIFY_HEADERS = {
    "content-type": "application/json",
    "x-shopify-topic": "orders/paid",
    "x-shopify-shop-domain": "example.myshopify.com",
    "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    "x-shopify-api-version": "2025-07",
}


async def test_shopify_signed_webhook_is_accepted(guides: Gateway) -> None:
    headers = SHOPIFY_HEADERS | signing.shopify(SHOPIFY, ORDER)

    response = await guides.post("shopify", content=ORDER, headers=headers)

    assert response.status_code == 200
    assert response.json() == {"received": "orders/paid", "id": 820982911946154508}
    await guides.drain()
    assert (await guides.execution(response.headers["x-execution-id"]))["status"] == "RESOLVED"


@pytest.mark.parametrize(
    ("body", "signature"),
    [
        (ORDER, signing.shopify("another-shop-secret", ORDER)),  # wrong secret
        (ORDER.replace(b"403.00", b"0.01"), signing.shopify(SHOPIFY, ORDER)),  # body changed
        (
            ORDER,
            {"x-shopify-hmac-sha256": signing.github(SHOPIFY, ORDER)["x-hub-signature-256"]},
        ),  # hex, not base64
        (ORDER, {}),  # unsigned
    ],
)
async def test_shopify_forged_webhooks_are_refused(
    guides: Gateway, body: bytes, signature: dict[str, str]
) -> None:
    response = await guides.post("shopify", content=body, headers=SHOPIFY_HEADERS | signature)

    assert response.status_code == 401
    assert await guides.executions() == []


def test_every_guide_names_its_secret_variable() -> None:
    for path in GUIDES.glob("*.md"):
        names = re.findall(r"\$\{([A-Z_]+)\}", guide_document(path.stem))
        assert names and set(names) <= set(SECRETS), path.name
        assert f"export {names[0]}=" in path.read_text(), path.name


# --- GitHub's form-encoded mode: the JSON in a `payload` field ---------------------------


def github_form_document() -> str:
    """The GitHub guide's workflow with the body rules its form-encoded section gives."""
    document = guide_document("github")
    rules = guide_document("github", block=1)
    start = document.index("    body:\n")
    end = document.index("nodes:")
    document = document[:start] + rules + document[end:]
    for name in ("hook_id", "ref", "action"):
        document = document.replace(f"$context.body.{name}}}", f"$context.body.payload.{name}}}")
    return document.replace("key: github", "key: github-form")


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_github_form_encoded_deliveries_are_routed_alike(
    guides: Gateway, payload: str
) -> None:
    await guides.apply(github_form_document())
    json_body, headers = github_delivery(payload, SECRETS["GITHUB_WEBHOOK_SECRET"])
    form = urlencode({"payload": json_body.decode()}).encode()
    headers = headers | {"content-type": "application/x-www-form-urlencoded"}
    headers |= signing.github(SECRETS["GITHUB_WEBHOOK_SECRET"], form)

    response = await guides.post("github-form", content=form, headers=headers)

    assert (response.status_code, response.json()) == github_answer(payload, headers)


# --- Slack interactivity: form-encoded, the JSON in `payload` -----------------------------

BLOCK_ACTIONS = {
    "type": "block_actions",
    "user": {"id": "U0CA5", "username": "amy"},
    "api_app_id": "A0CA5",
    "container": {"type": "message", "message_ts": "1548261231.000200"},
    "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
    "actions": [{"action_id": "approve", "block_id": "b1", "type": "button", "value": "42"}],
}


async def test_slack_interactivity_payloads_are_read_as_json(guides: Gateway) -> None:
    form = urlencode({"payload": orjson.dumps(BLOCK_ACTIONS).decode()}).encode()
    headers = {"content-type": "application/x-www-form-urlencoded", **signing.slack(SLACK, form)}

    response = await guides.post("slack-interactivity", content=form, headers=headers)

    assert (response.status_code, response.json()) == (200, {"text": "Got approve from <@U0CA5>"})


async def test_a_slack_payload_that_is_not_json_is_a_400_naming_the_rule(guides: Gateway) -> None:
    form = b"payload=%7Bnot+json"
    headers = {"content-type": "application/x-www-form-urlencoded", **signing.slack(SLACK, form)}

    response = await guides.post("slack-interactivity", content=form, headers=headers)

    assert response.status_code == 400
    payload, type_ = response.json()["details"]  # and so nothing can be read into it
    assert (payload["key"], type_["key"]) == ("payload", "payload.type")
    assert payload["message"].startswith("expected JSON text")


# --- Standard Webhooks -------------------------------------------------------------------

USER_CREATED = orjson.dumps(
    {"type": "user.created", "data": {"id": "user_29w83sxmDNGwOuEthce5gg56FcC"}}
)


def standard(
    msg_id: str = "msg_p5jXN8AQM9LWM0D4loKWxJek", prefix: str = "webhook-"
) -> dict[str, str]:
    stamp = datetime.now(tz=UTC)
    signature = Webhook(SECRETS["STANDARD_WEBHOOKS_SECRET"]).sign(msg_id, stamp, USER_CREATED)
    return {
        "content-type": "application/json",
        f"{prefix}id": msg_id,
        f"{prefix}timestamp": str(int(stamp.timestamp())),
        f"{prefix}signature": signature,
    }


@pytest.mark.parametrize("prefix", ["webhook-", "svix-"])
async def test_standard_webhooks_events_are_accepted_and_run(guides: Gateway, prefix: str) -> None:
    response = await guides.post("events", content=USER_CREATED, headers=standard(prefix=prefix))

    assert (response.status_code, response.json()) == (200, {"received": "user.created"})
    await guides.drain()
    execution = await guides.execution(response.headers["x-execution-id"])
    assert execution["status"] == "RESOLVED"
    assert [j["nodeKey"] for j in execution["jobs"]] == ["created", "welcome"]


async def test_a_standard_webhooks_retry_runs_nothing(guides: Gateway) -> None:
    first = await guides.post("events", content=USER_CREATED, headers=standard())
    retry = await guides.post("events", content=USER_CREATED, headers=standard())
    await guides.drain()

    assert retry.headers["x-execution-id"] == first.headers["x-execution-id"]
    assert len(await guides.executions("events")) == 1


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (USER_CREATED.replace(b"created", b"deleted"), standard),  # body changed after signing
        (USER_CREATED, lambda: standard() | {"webhook-id": "msg_other"}),  # the id is signed
        (USER_CREATED, lambda: {k: v for k, v in standard().items() if k != "webhook-signature"}),
        (USER_CREATED, lambda: standard() | {"webhook-timestamp": str(int(time.time()) - 600)}),
    ],
)
async def test_standard_webhooks_forgeries_are_refused(
    guides: Gateway, body: bytes, headers: Signer
) -> None:
    response = await guides.post("events", content=body, headers=headers())

    assert response.status_code == 401
    assert await guides.executions() == []


# --- Twilio ------------------------------------------------------------------------------

SMS = {
    "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "From": "+15555550100",
    "To": "+15555550199",
    "Body": "Hello <there> & welcome",
    "NumMedia": "0",
}


async def twilio_call(gateway: Gateway, params: dict[str, str], signed: dict[str, str]) -> Any:
    path = await gateway.url("sms")
    url = str(gateway.settings.public_url).rstrip("/") + path
    signature = RequestValidator(SECRETS["TWILIO_AUTH_TOKEN"]).compute_signature(url, signed)
    headers = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature}
    return await gateway.client.post(path, content=urlencode(params).encode(), headers=headers)


async def test_twilio_messages_get_the_guides_twiml(guides: Gateway) -> None:
    response = await twilio_call(guides, SMS, SMS)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml"
    assert response.text == "<Response><Message>Thanks, we got your message.</Message></Response>"


async def test_twilio_changed_parameters_are_refused(guides: Gateway) -> None:
    response = await twilio_call(guides, SMS | {"Body": "changed"}, SMS)

    assert response.status_code == 401
    assert await guides.executions() == []
