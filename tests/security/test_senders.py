"""Every signing preset against the sender's own official library (docs/security.md,
Signatures): Standard Webhooks (`standardwebhooks`), Twilio (`twilio`'s RequestValidator),
Stripe (`stripe`), Slack (`slack_sdk`), GitHub (`@octokit/webhooks-methods`, through Node),
and the generic `hmac` preset's signed `content`. Shopify publishes no library that signs a
webhook; its scheme is tested with its documented HMAC in test_signatures.py.

Then de-duplication by each preset's delivery id: a sender's retry never runs twice."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
import stripe
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from slack_sdk.signature import SignatureVerifier
from standardwebhooks.webhooks import Webhook
from twilio.request_validator import RequestValidator

from gateway.core.errors import DefinitionInvalid
from tests import reference, signing
from tests.conftest import SettingsFactory
from tests.support import ROOT, Gateway, running_gateway

# Secrets as the senders issue them: Standard Webhooks' `whsec_` + base64 of 24 bytes.
SW_SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-secret").decode()
SW_OLD_SECRET = "whsec_" + base64.b64encode(b"the-secret-being-rotated").decode()
TWILIO_TOKEN = "12345678901234567890123456789012"
STRIPE_SECRET = "whsec_stripe_test_5c1d"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
GITHUB_SECRET = "It's a Secret to Everybody"
BODY = b'{"type":"contact.created","data":{"id":"1f81eb52"}}'

ECHO = """
key: signed
sync: true
trigger:
  signature: %s
nodes:
  - {key: reply, type: response, config: {statusCode: 200, body: {got: "{{$context.body}}"}}}
"""


def echo(signature: str) -> str:
    return ECHO % signature


def now() -> int:
    return int(time.time())


# --- Standard Webhooks ---------------------------------------------------------------


def standard(
    secret: str = SW_SECRET, *, age: int = 0, msg_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
) -> dict[str, str]:
    """Headers as a Standard Webhooks sender makes them, signed by the spec's library."""
    stamp = datetime.fromtimestamp(now() - age, tz=UTC)
    signature = Webhook(secret).sign(msg_id, stamp, BODY)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signature,
    }


def rotated() -> dict[str, str]:
    """Signed with the old and the new secret at once, as during a rotation."""
    old, new = standard(SW_OLD_SECRET), standard(SW_SECRET)
    return new | {"webhook-signature": f"{old['webhook-signature']} {new['webhook-signature']}"}


def svix_branded() -> dict[str, str]:
    """What Svix-branded senders (Clerk, older Resend) send: the same scheme, svix-* names."""
    return {k.replace("webhook-", "svix-"): v for k, v in standard().items()}


KEY_PAIR = Ed25519PrivateKey.generate()
PUBLIC_KEY = (
    "whpk_"
    + base64.b64encode(KEY_PAIR.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
)


def asymmetric() -> dict[str, str]:
    """A `v1a` (Ed25519) signature as the spec defines it; the spec's Python library signs
    only `v1`, so `cryptography` signs here, over the same content."""
    stamp, msg_id = str(now()), "msg_asym"
    signature = KEY_PAIR.sign(f"{msg_id}.{stamp}.".encode() + BODY)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1a," + base64.b64encode(signature).decode(),
    }


Signer = Callable[[], dict[str, str]]

STANDARD_ACCEPTED: list[tuple[str, Signer]] = [
    (SW_SECRET, standard),  # one v1 signature
    (SW_SECRET, rotated),  # two, the second ours
    (SW_OLD_SECRET, rotated),  # two, the first ours (the receiver not rotated yet)
    (SW_SECRET, svix_branded),  # svix-id, svix-timestamp, svix-signature
    (SW_SECRET.removeprefix("whsec_"), standard),  # a secret pasted without its prefix
    (SW_SECRET, lambda: standard(age=290)),  # just inside the 5 minutes
    (PUBLIC_KEY, asymmetric),  # v1a with the sender's public key
    (
        PUBLIC_KEY,
        lambda: (
            asymmetric() | {"webhook-signature": "v1,AAAA " + asymmetric()["webhook-signature"]}
        ),
    ),
]


@pytest.mark.parametrize(("secret", "headers"), STANDARD_ACCEPTED)
async def test_standard_webhooks_signed_by_the_spec_library_are_accepted(
    gateway: Gateway, secret: str, headers: Signer
) -> None:
    await gateway.apply(echo(f"{{preset: standard-webhooks, secret: '{secret}'}}"))

    response = await gateway.post(
        "signed", content=BODY, headers={"content-type": "application/json", **headers()}
    )

    assert response.status_code == 200, response.text
    assert response.json()["got"]["type"] == "contact.created"


def tampered() -> dict[str, str]:
    return standard(msg_id="msg_other") | {"webhook-id": "msg_original"}


STANDARD_REFUSED: list[tuple[str, Signer, str]] = [
    (SW_SECRET, lambda: standard(SW_OLD_SECRET), "does not match"),  # another secret
    (SW_SECRET, tampered, "does not match"),  # the id is signed too
    (SW_SECRET, lambda: standard(age=310), "300 s"),  # too old
    (SW_SECRET, lambda: standard(age=-310), "300 s"),  # too far ahead
    (
        SW_SECRET,
        lambda: {k: v for k, v in standard().items() if k != "webhook-id"},
        "webhook-id header is missing",
    ),
    (
        SW_SECRET,
        lambda: standard() | {"webhook-timestamp": "2024-01-01"},
        "not a Unix timestamp",
    ),
    (SW_SECRET, asymmetric, "no v1 signature"),  # only v1a, and the secret is symmetric
    (PUBLIC_KEY, standard, "no v1a signature"),  # only v1, and the key is a public key
]


@pytest.mark.parametrize(("secret", "headers", "message"), STANDARD_REFUSED)
async def test_standard_webhooks_forgeries_are_refused(
    gateway: Gateway, secret: str, headers: Signer, message: str
) -> None:
    await gateway.apply(echo(f"{{preset: standard-webhooks, secret: '{secret}'}}"))

    response = await gateway.post(
        "signed", content=BODY, headers={"content-type": "application/json", **headers()}
    )

    assert response.status_code == 401
    assert message in response.json()["message"]


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("whsk_" + base64.b64encode(b"x" * 64).decode(), "private key"),  # the sender's own
        ("whsec_not base64!", "base64"),  # not base64
        ("whpk_" + base64.b64encode(b"short").decode(), "32 bytes"),  # not an Ed25519 key
        ("whsec_", "empty"),  # a prefix alone
    ],
)
async def test_standard_webhooks_secrets_are_checked_at_save(
    gateway: Gateway, secret: str, message: str
) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        await gateway.apply(echo(f"{{preset: standard-webhooks, secret: '{secret}'}}"))

    [problem] = caught.value.problems
    assert problem.field == "trigger.signature.secret"
    assert message in problem.message
    assert secret not in str(problem)


# --- Twilio --------------------------------------------------------------------------

FORM = {"Body": "Hello there", "From": "+15555550100", "To": "+15555550199", "NumMedia": "0"}


def public(gateway: Gateway) -> str:
    base: str = gateway.settings.public_url
    return base.rstrip("/")


async def twilio_url(gateway: Gateway, query: str = "") -> str:
    """The URL Twilio was given: what `gateway apply` prints (`GATEWAY_PUBLIC_URL`)."""
    path = await gateway.url("signed")
    return public(gateway) + path + (f"?{query}" if query else "")


async def test_twilio_form_requests_signed_by_its_validator_are_accepted(gateway: Gateway) -> None:
    await gateway.apply(echo(f"{{preset: twilio, secret: '{TWILIO_TOKEN}'}}"))
    url = await twilio_url(gateway, "source=sms")

    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, FORM)
    response = await gateway.client.post(
        url.removeprefix(public(gateway)),
        content=urlencode(FORM).encode(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": signature,
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["got"]["Body"] == "Hello there"


async def test_twilio_json_requests_signed_with_their_body_hash_are_accepted(
    gateway: Gateway,
) -> None:
    await gateway.apply(echo(f"{{preset: twilio, secret: '{TWILIO_TOKEN}'}}"))
    url = await twilio_url(gateway, f"bodySHA256={hashlib.sha256(BODY).hexdigest()}")
    validator = RequestValidator(TWILIO_TOKEN)

    signature = validator.compute_signature(url, {})
    assert validator.validate(url, BODY.decode(), signature)  # the library agrees
    response = await gateway.client.post(
        url.removeprefix(public(gateway)),
        content=BODY,
        headers={"content-type": "application/json", "x-twilio-signature": signature},
    )

    assert response.status_code == 200, response.text


TWILIO_CASES: list[tuple[str, Callable[[str], tuple[str, dict[str, str]]], int]] = [
    # HMAC_SHA256 with a SharedKey, named in the settings header
    (
        "sha256",
        lambda url: (
            RequestValidator(TWILIO_TOKEN).compute_signature(url, FORM, "HMAC_SHA256"),
            {
                "x-twilio-webhooks-signature-settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
            },
        ),
        200,
    ),
    # signed over another URL
    (
        "other-url",
        lambda url: (RequestValidator(TWILIO_TOKEN).compute_signature(url + "&x=1", FORM), {}),
        401,
    ),
    # another Auth Token
    ("other-token", lambda url: (RequestValidator("0" * 32).compute_signature(url, FORM), {}), 401),
    # an algorithm the gateway does not know
    (
        "unknown-algorithm",
        lambda url: (
            RequestValidator(TWILIO_TOKEN).compute_signature(url, FORM),
            {"x-twilio-webhooks-signature-settings": "algorithm=HMAC_SHA3"},
        ),
        401,
    ),
]


@pytest.mark.parametrize(("case", "sign", "status"), TWILIO_CASES)
async def test_twilio_signature_variants(
    gateway: Gateway, case: str, sign: Callable[[str], tuple[str, dict[str, str]]], status: int
) -> None:
    await gateway.apply(echo(f"{{preset: twilio, secret: '{TWILIO_TOKEN}'}}"))
    url = await twilio_url(gateway, "source=sms")
    signature, extra = sign(url)

    response = await gateway.client.post(
        url.removeprefix(public(gateway)),
        content=urlencode(FORM).encode(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": signature,
            **extra,
        },
    )

    assert response.status_code == status, response.text


async def test_twilio_tampered_parameters_and_unhashed_json_are_refused(gateway: Gateway) -> None:
    await gateway.apply(echo(f"{{preset: twilio, secret: '{TWILIO_TOKEN}'}}"))
    url = await twilio_url(gateway)
    path = url.removeprefix(public(gateway))
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, FORM)

    tampered = await gateway.client.post(
        path,
        content=urlencode(FORM | {"Body": "Send money"}).encode(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": signature,
        },
    )
    unhashed = await gateway.client.post(
        path,
        content=BODY,
        headers={
            "content-type": "application/json",
            "x-twilio-signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, {}),
        },
    )

    assert (tampered.status_code, unhashed.status_code) == (401, 401)
    assert "bodySHA256" in unhashed.json()["message"]


async def test_twilio_urls_are_tried_with_and_without_the_default_port(
    settings_factory: SettingsFactory,
) -> None:
    # Twilio's own validators do the same: its signing is inconsistent about the port.
    async with running_gateway(settings_factory(public_url="https://hooks.example.com")) as gateway:
        await gateway.apply(echo(f"{{preset: twilio, secret: '{TWILIO_TOKEN}'}}"))
        path = await gateway.url("signed")
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(
            f"https://hooks.example.com:443{path}", FORM
        )

        response = await gateway.client.post(
            path,
            content=urlencode(FORM).encode(),
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "x-twilio-signature": signature,
            },
        )

    assert response.status_code == 200, response.text


# --- Stripe, Slack and GitHub with their own libraries --------------------------------


async def test_stripe_events_signed_by_stripes_library_are_accepted(gateway: Gateway) -> None:
    await gateway.apply(echo(f"{{preset: stripe, secret: {STRIPE_SECRET}}}"))
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), STRIPE_SECRET)

    response = await gateway.post(
        "signed",
        content=BODY,
        headers={"content-type": "application/json", "stripe-signature": header},
    )

    assert response.status_code == 200, response.text


async def test_slack_requests_signed_by_slack_sdk_are_accepted(gateway: Gateway) -> None:
    await gateway.apply(echo(f"{{preset: slack, secret: {SLACK_SECRET}}}"))
    stamp = str(now())
    signature = SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=stamp, body=BODY)

    response = await gateway.post(
        "signed",
        content=BODY,
        headers={
            "content-type": "application/json",
            "x-slack-request-timestamp": stamp,
            "x-slack-signature": signature,
        },
    )

    assert response.status_code == 200, response.text


GITHUB = ROOT / "tests" / "fixtures" / "github"
GITHUB_PAYLOADS = sorted(p.name for p in GITHUB.glob("*.json"))


@pytest.fixture(scope="module")
def octokit_signatures() -> dict[str, str]:
    """`@octokit/webhooks-methods` sign() of every real payload, in one Node run."""
    texts = {name: (GITHUB / name).read_text() for name in GITHUB_PAYLOADS}
    results = reference.run(
        [{"kind": "github-sign", "secret": GITHUB_SECRET, "payload": t} for t in texts.values()]
    )
    return {name: r["value"] for name, r in zip(texts, results, strict=True)}


@pytest.mark.parametrize("name", GITHUB_PAYLOADS)
async def test_github_deliveries_signed_by_octokit_are_accepted(
    gateway: Gateway, octokit_signatures: dict[str, str], name: str
) -> None:
    await gateway.apply(echo(f'{{preset: github, secret: "{GITHUB_SECRET}"}}'))

    response = await gateway.post(
        "signed",
        content=(GITHUB / name).read_bytes(),
        headers={
            "content-type": "application/json",
            "x-github-event": name.split(".")[0],
            "x-hub-signature-256": octokit_signatures[name],
        },
    )

    assert response.status_code == 200, response.text


# --- the generic hmac preset: schemes that sign more than the body --------------------


def b64mac(secret: str, payload: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode()


HMAC_SECRET = "generic-hmac-secret"


async def square_style(gateway: Gateway) -> dict[str, str]:
    """Square: base64 HMAC-SHA256 of the notification URL followed by the body."""
    url = public(gateway) + await gateway.url("signed")
    return {"x-square-hmacsha256-signature": b64mac(HMAC_SECRET, url.encode() + BODY)}


async def message_id_style(gateway: Gateway) -> dict[str, str]:
    """A message id and a timestamp signed with the body, several signatures in one header."""
    stamp = str(now())
    mac = b64mac(HMAC_SECRET, b"evt_1." + stamp.encode() + b"." + BODY)
    return {
        "x-id": "evt_1",
        "x-ts": stamp,
        "x-sig": f"v2,ignored v1,{b64mac('old', BODY)} v1,{mac}",
    }


async def method_url_style(gateway: Gateway) -> dict[str, str]:
    """HubSpot-like: method, URL and body, then the timestamp, hex."""
    stamp = str(now())
    url = public(gateway) + await gateway.url("signed")
    payload = b"POST" + url.encode() + BODY + stamp.encode()
    return {
        "x-ts": stamp,
        "x-sig": hmac.new(HMAC_SECRET.encode(), payload, hashlib.sha256).hexdigest(),
    }


HMAC_SCHEMES: list[tuple[str, Any]] = [
    (
        "{header: X-Square-Hmacsha256-Signature, encoding: base64, content: '{url}{body}'}",
        square_style,
    ),
    (
        "{header: X-Sig, encoding: base64, prefix: 'v1,', delimiter: ' ', timestampHeader: X-Ts, content: '{header.x-id}.{timestamp}.{body}'}",
        message_id_style,
    ),
    (
        "{header: X-Sig, timestampHeader: X-Ts, content: '{method}{url}{body}{timestamp}'}",
        method_url_style,
    ),
]


@pytest.mark.parametrize(("option", "sign"), HMAC_SCHEMES)
async def test_hmac_content_signs_more_than_the_body(
    gateway: Gateway, option: str, sign: Any
) -> None:
    await gateway.apply(echo(option.replace("{header:", f"{{secret: {HMAC_SECRET}, header:", 1)))
    headers = await sign(gateway)

    good = await gateway.post(
        "signed", content=BODY, headers={"content-type": "application/json", **headers}
    )
    forged = await gateway.post(
        "signed",
        content=BODY.replace(b"1f81", b"0000"),
        headers={"content-type": "application/json", **headers},
    )

    assert good.status_code == 200, good.text
    assert forged.status_code == 401


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{url}", "must sign {body}"),  # the body would be unsigned
        ("{body}{nonce}", "unknown field {nonce}"),  # not a field
        ("{body}}", "lone"),  # a lone brace
        ("{timestamp}.{body}", "needs a timestampHeader"),  # nothing to read it from
    ],
)
async def test_hmac_content_problems_are_found_at_save(
    gateway: Gateway, content: str, message: str
) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        await gateway.apply(echo(f"{{header: X-Sig, secret: s, content: '{content}'}}"))

    assert [p.field for p in caught.value.problems] == ["trigger.signature.content"]
    assert message in caught.value.problems[0].message


# --- a sender's retry never runs twice ------------------------------------------------

ASYNC = """
key: retried
trigger:
  signature: %s%s
  response: {statusCode: 202, body: {accepted: "{{$context.receivedAt}}"}}
nodes: [{key: done, type: end, config: {endStatus: 1}}]
"""
Delivery = Callable[[Gateway, str], Any]


async def standard_delivery(gateway: Gateway, delivery: str) -> tuple[str, bytes, dict[str, str]]:
    return await gateway.url("retried"), BODY, standard(msg_id=delivery)


async def github_delivery(gateway: Gateway, delivery: str) -> tuple[str, bytes, dict[str, str]]:
    headers = {"x-github-event": "push", "x-github-delivery": delivery}
    return await gateway.url("retried"), BODY, headers | signing.github(GITHUB_SECRET, BODY)


async def stripe_delivery(gateway: Gateway, delivery: str) -> tuple[str, bytes, dict[str, str]]:
    body = b'{"id": "%s", "type": "payment_intent.succeeded"}' % delivery.encode()
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), STRIPE_SECRET)
    return await gateway.url("retried"), body, {"stripe-signature": header}


async def slack_delivery(gateway: Gateway, delivery: str) -> tuple[str, bytes, dict[str, str]]:
    body = b'{"type": "event_callback", "event_id": "%s"}' % delivery.encode()
    return await gateway.url("retried"), body, signing.slack(SLACK_SECRET, body)


async def shopify_delivery(gateway: Gateway, delivery: str) -> tuple[str, bytes, dict[str, str]]:
    headers = {"x-shopify-webhook-id": delivery} | signing.shopify(SHOPIFY_SECRET, BODY)
    return await gateway.url("retried"), BODY, headers


async def twilio_delivery(gateway: Gateway, delivery: str) -> tuple[str, bytes, dict[str, str]]:
    path = await gateway.url("retried")
    url = public(gateway) + path
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, FORM)
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature,
        "i-twilio-idempotency-token": delivery,
    }
    return path, urlencode(FORM).encode(), headers


SHOPIFY_SECRET = "shopify-test-secret"
RETRIED: list[tuple[str, Delivery]] = [
    (f"{{preset: standard-webhooks, secret: '{SW_SECRET}'}}", standard_delivery),  # webhook-id
    (f'{{preset: github, secret: "{GITHUB_SECRET}"}}', github_delivery),  # X-GitHub-Delivery
    (f"{{preset: stripe, secret: {STRIPE_SECRET}}}", stripe_delivery),  # the event's id
    (f"{{preset: slack, secret: {SLACK_SECRET}}}", slack_delivery),  # event_id
    (f"{{preset: shopify, secret: {SHOPIFY_SECRET}}}", shopify_delivery),  # X-Shopify-Webhook-Id
    (
        f"{{preset: twilio, secret: '{TWILIO_TOKEN}'}}",
        twilio_delivery,
    ),  # I-Twilio-Idempotency-Token
]


async def deliver(gateway: Gateway, delivery: Delivery, delivery_id: str) -> Any:
    path, content, headers = await delivery(gateway, delivery_id)
    return await gateway.client.post(
        path, content=content, headers={"content-type": "application/json", **headers}
    )


@pytest.mark.parametrize(("signature", "delivery"), RETRIED)
async def test_each_presets_retry_is_answered_as_the_first_call_and_runs_nothing(
    gateway: Gateway, signature: str, delivery: Delivery
) -> None:
    await gateway.apply(ASYNC % (signature, ""))

    first = await deliver(gateway, delivery, "delivery-1")
    retry = await deliver(gateway, delivery, "delivery-1")  # signed anew, as a retry is
    other = await deliver(gateway, delivery, "delivery-2")
    await gateway.drain()

    assert [first.status_code, retry.status_code, other.status_code] == [202, 202, 202]
    assert retry.json() == first.json()
    assert retry.headers["x-execution-id"] == first.headers["x-execution-id"]
    assert other.headers["x-execution-id"] != first.headers["x-execution-id"]
    assert len(await gateway.executions("retried")) == 2


@pytest.mark.parametrize(("signature", "delivery"), RETRIED[:2])
async def test_deduplicate_false_runs_every_retry(
    gateway: Gateway, signature: str, delivery: Delivery
) -> None:
    await gateway.apply(ASYNC % (signature, "\n  deduplicate: false"))

    first = await deliver(gateway, delivery, "delivery-1")
    retry = await deliver(gateway, delivery, "delivery-1")
    await gateway.drain()

    assert retry.headers["x-execution-id"] != first.headers["x-execution-id"]
    assert len(await gateway.executions("retried")) == 2


async def test_a_triggers_own_deduplicate_replaces_the_presets(gateway: Gateway) -> None:
    own = '\n  deduplicate: {key: "{{$context.headers.x-github-event}}", window: 60}'
    await gateway.apply(ASYNC % (RETRIED[1][0], own))

    first = await deliver(gateway, github_delivery, "delivery-1")
    other_delivery_same_event = await deliver(gateway, github_delivery, "delivery-2")
    await gateway.drain()

    assert first.headers["x-execution-id"] == other_delivery_same_event.headers["x-execution-id"]
