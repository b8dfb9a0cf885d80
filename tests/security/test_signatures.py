"""The `signature` trigger option (docs/security.md, Signatures): generic HMAC variants, where the check sits
among the endpoint's checks, save-time validation, and the write-only secret's life
across applies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import pytest

from gateway.core.errors import DefinitionInvalid
from gateway.store import definitions
from tests import signing
from tests.conftest import SettingsFactory
from tests.support import Gateway, running_gateway

SECRET = "hmac-test-secret-6c1f"
BODY = b'{"order": 42}'

SIGNED = """
key: signed
sync: true
trigger:
  signature: %(signature)s
  request: {body: [{key: order, required: true, type: integer}]}
nodes:
  - {key: reply, type: response, config: {statusCode: 200, body: {order: "{{$context.body.order}}"}}}
"""


def signed(signature: str) -> str:
    """A sync workflow `signed` that answers the order it read; `signature` is YAML."""
    return SIGNED % {"signature": signature}


def mac(payload: bytes, algorithm: str = "sha256", secret: str = SECRET) -> bytes:
    return hmac.new(secret.encode(), payload, getattr(hashlib, algorithm)).digest()


Headers = dict[str, str] | Callable[[], dict[str, str]]


def headers_of(headers: Headers) -> dict[str, str]:
    """Headers as given, or made now: a timestamp must not age while the suite runs."""
    return headers() if callable(headers) else headers


def stamped(age: float = 0, stamp: str | None = None) -> dict[str, str]:
    """`X-Sig` over `{timestamp}.{body}` and `X-Ts`, the timestamp `age` seconds ago."""
    stamp = stamp or str(int(time.time() - age))
    return {"x-sig": mac(stamp.encode() + b"." + BODY).hex(), "x-ts": stamp}


ACCEPTED: list[tuple[str, Headers]] = [
    # default: SHA-256, hex, no prefix
    (f"{{header: X-Signature, secret: {SECRET}}}", {"x-signature": mac(BODY).hex()}),
    # upper-case hex is the same digest
    (f"{{header: X-Signature, secret: {SECRET}}}", {"x-signature": mac(BODY).hex().upper()}),
    # SHA-1 with a prefix (GitHub's legacy X-Hub-Signature)
    (
        f"{{preset: hmac, header: X-Hub-Signature, algorithm: sha1, prefix: 'sha1=', secret: {SECRET}}}",
        {"x-hub-signature": "sha1=" + mac(BODY, "sha1").hex()},
    ),
    # SHA-512, base64
    (
        f"{{header: X-Sig, algorithm: sha512, encoding: base64, secret: {SECRET}}}",
        {"x-sig": base64.b64encode(mac(BODY, "sha512")).decode()},
    ),
    # a timestamp header: `{timestamp}.{body}` is signed
    (
        f"{{header: X-Sig, timestampHeader: X-Ts, secret: {SECRET}}}",
        stamped,
    ),
    # presets
    (f"{{preset: github, secret: {SECRET}}}", signing.github(SECRET, BODY)),
    (f"{{preset: shopify, secret: {SECRET}}}", signing.shopify(SECRET, BODY)),
    (f"{{preset: stripe, secret: {SECRET}}}", lambda: signing.stripe(SECRET, BODY)),
    (f"{{preset: slack, secret: {SECRET}}}", lambda: signing.slack(SECRET, BODY)),
    # a wider tolerance lets an older Stripe timestamp through
    (
        f"{{preset: stripe, tolerance: 3600, secret: {SECRET}}}",
        lambda: signing.stripe(SECRET, BODY, time.time() - 1800),
    ),
]


@pytest.mark.parametrize(("signature", "headers"), ACCEPTED)
async def test_signed_calls_run(gateway: Gateway, signature: str, headers: Headers) -> None:
    await gateway.apply(signed(signature))

    response = await gateway.post(
        "signed", content=BODY, headers={"content-type": "application/json", **headers_of(headers)}
    )

    assert (response.status_code, response.json()) == (200, {"order": 42})


REFUSED: list[tuple[str, Headers, str]] = [
    # the right digest under another algorithm
    (
        f"{{header: X-Sig, algorithm: sha512, secret: {SECRET}}}",
        {"x-sig": mac(BODY).hex()},
        "does not match",
    ),
    # hex where base64 is configured (hex digits are valid base64, of other bytes)
    (
        f"{{header: X-Sig, encoding: base64, secret: {SECRET}}}",
        {"x-sig": mac(BODY).hex()},
        "does not match",
    ),
    # base64 that is not
    (
        f"{{header: X-Sig, encoding: base64, secret: {SECRET}}}",
        {"x-sig": "not base64!"},
        "malformed",
    ),
    # the prefix is missing
    (
        f"{{header: X-Sig, prefix: 'sha256=', secret: {SECRET}}}",
        {"x-sig": mac(BODY).hex()},
        "malformed",
    ),
    # not hex at all
    (f"{{header: X-Sig, secret: {SECRET}}}", {"x-sig": "zz" * 32}, "malformed"),
    # a truncated digest
    (f"{{header: X-Sig, secret: {SECRET}}}", {"x-sig": mac(BODY).hex()[:32]}, "does not match"),
    # the header is missing
    (
        f"{{header: X-Sig, secret: {SECRET}}}",
        {"x-other": mac(BODY).hex()},
        "x-sig header is missing",
    ),
    # timestamped: the stamp is missing
    (
        f"{{header: X-Sig, timestampHeader: X-Ts, secret: {SECRET}}}",
        lambda: {"x-sig": stamped()["x-sig"]},
        "x-ts header is missing",
    ),
    # timestamped: replayed 400 s later (tolerance 300)
    (
        f"{{header: X-Sig, timestampHeader: X-Ts, secret: {SECRET}}}",
        lambda: stamped(age=400),
        "300 s",
    ),
    # timestamped: only the body signed, not the stamp
    (
        f"{{header: X-Sig, timestampHeader: X-Ts, secret: {SECRET}}}",
        lambda: stamped() | {"x-sig": mac(BODY).hex()},
        "does not match",
    ),
    # timestamped: not a Unix time
    (
        f"{{header: X-Sig, timestampHeader: X-Ts, secret: {SECRET}}}",
        {"x-sig": mac(BODY).hex(), "x-ts": "2024-01-01T00:00:00Z"},
        "not a Unix timestamp",
    ),
    # Stripe: a tighter tolerance refuses what the default would allow
    (
        f"{{preset: stripe, tolerance: 60, secret: {SECRET}}}",
        lambda: signing.stripe(SECRET, BODY, time.time() - 120),
        "60 s",
    ),
    # Stripe: two timestamps
    (
        f"{{preset: stripe, secret: {SECRET}}}",
        lambda: {"stripe-signature": f"t={time.time():.0f},t=1,v1={'0' * 64}"},
        "one t=",
    ),
    # Slack: the v0= prefix missing
    (
        f"{{preset: slack, secret: {SECRET}}}",
        lambda: {k: v.removeprefix("v0=") for k, v in signing.slack(SECRET, BODY).items()},
        "malformed",
    ),
]


@pytest.mark.parametrize(("signature", "headers", "message"), REFUSED)
async def test_unsigned_or_forged_calls_are_refused(
    gateway: Gateway, signature: str, headers: Headers, message: str
) -> None:
    await gateway.apply(signed(signature))

    response = await gateway.post(
        "signed", content=BODY, headers={"content-type": "application/json", **headers_of(headers)}
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert message in response.json()["message"]
    assert response.headers["www-authenticate"] == 'Signature realm="webhook"'
    assert await gateway.executions() == []


# --- where the signature check sits --------------------------------------------------


async def test_signature_is_checked_before_the_body_is_parsed(gateway: Gateway) -> None:
    """A forged call learns nothing about parsing or parse rules: 401, not 400 or 415."""
    await gateway.apply(signed(f"{{preset: github, secret: {SECRET}}}"))
    cases = [
        (b"{not json", "application/json"),  # would be 400 invalid_body
        (b"\x00\x01", "application/octet-stream"),  # would be 415
        (b"{}", "application/json"),  # would be 400: order is required
    ]
    for body, kind in cases:
        response = await gateway.post(
            "signed", content=body, headers={"content-type": kind, **signing.github("x", body)}
        )
        assert response.status_code == 401, kind


async def test_signed_call_with_bad_body_gets_the_body_error(gateway: Gateway) -> None:
    await gateway.apply(signed(f"{{preset: github, secret: {SECRET}}}"))
    body = b"{}"

    response = await gateway.post(
        "signed",
        content=body,
        headers={"content-type": "application/json", **signing.github(SECRET, body)},
    )

    assert response.status_code == 400
    assert response.json()["details"] == [{"source": "body", "key": "order", "message": "required"}]


async def test_basic_auth_and_size_come_before_the_signature(
    settings_factory: SettingsFactory,
) -> None:
    both = signed(f"{{preset: github, secret: {SECRET}}}").replace(
        "trigger:", "trigger:\n  basicAuthentication: {username: hooks, password: pass-word-1}"
    )
    async with running_gateway(settings_factory(body_limit=64)) as gateway:
        await gateway.apply(both)
        signature = signing.github(SECRET, BODY)
        no_auth = await gateway.post("signed", content=BODY, headers=signature)
        too_big = await gateway.post("signed", content=b"x" * 65, auth=("hooks", "pass-word-1"))
        unsigned = await gateway.post("signed", content=BODY, auth=("hooks", "pass-word-1"))
        good = await gateway.post(
            "signed",
            content=BODY,
            auth=("hooks", "pass-word-1"),
            headers={"content-type": "application/json", **signature},
        )

    assert no_auth.headers["www-authenticate"] == 'Basic realm="webhook"'
    assert [r.status_code for r in (no_auth, too_big, unsigned, good)] == [401, 413, 401, 200]
    assert unsigned.json()["error"] == "invalid_signature"


async def test_async_workflow_refuses_before_storing(gateway: Gateway) -> None:
    await gateway.apply(
        f"""
key: queued
trigger: {{signature: {{preset: shopify, secret: {SECRET}}}}}
nodes: [{{key: done, type: end, config: {{endStatus: 1}}}}]
"""
    )

    json = {"content-type": "application/json"}
    forged = await gateway.post(
        "queued", content=BODY, headers=json | signing.shopify("guess", BODY)
    )
    genuine = await gateway.post(
        "queued", content=BODY, headers=json | signing.shopify(SECRET, BODY)
    )

    assert (forged.status_code, genuine.status_code) == (401, 200)
    await gateway.drain()
    assert [e["id"] for e in await gateway.executions()] == [genuine.headers["x-execution-id"]]


# --- save-time validation ------------------------------------------------------------

INVALID: list[tuple[str, list[tuple[str, str]]]] = [
    ("github", [("trigger.signature", "must be a mapping")]),
    ("{preset: gitlab, secret: s}", [("trigger.signature.preset", "unknown preset 'gitlab'")]),
    (
        "{preset: github, secret: s, header: X-Hub-Signature, algorithm: sha1}",
        [
            ("trigger.signature.header", "not used by the github preset"),
            ("trigger.signature.algorithm", "not used by the github preset"),
        ],
    ),
    (
        "{preset: stripe, secret: s, tolerance: 0}",
        [("trigger.signature.tolerance", "whole seconds")],
    ),
    (
        "{preset: slack, secret: s, tolerance: '300'}",
        [("trigger.signature.tolerance", "whole seconds")],
    ),
    ("{preset: shopify, secret: ''}", [("trigger.signature.secret", "non-empty text")]),
    ("{preset: shopify, secret: 12345}", [("trigger.signature.secret", "non-empty text")]),
    ("{preset: github, secret: s, salt: x}", [("trigger.signature.salt", "unknown field")]),
    (
        "{preset: hmac, secret: s, algorithm: md5, encoding: base32, prefix: 5}",
        [
            ("trigger.signature.header", "required"),
            ("trigger.signature.algorithm", "must be sha1, sha256, sha512"),
            ("trigger.signature.encoding", "must be hex or base64"),
            ("trigger.signature.prefix", "must be text"),
        ],
    ),
    (
        "{header: 'X Sig', timestampHeader: 'a:b', secret: s}",
        [
            ("trigger.signature.header", "required"),
            ("trigger.signature.timestampHeader", "must be a header name"),
        ],
    ),
    (
        "{header: X-Sig, tolerance: 60, secret: s}",
        [("trigger.signature.tolerance", "only applies with a timestampHeader")],
    ),
]


@pytest.mark.parametrize(("signature", "expected"), INVALID)
async def test_invalid_signature_options_are_refused_with_every_problem(
    gateway: Gateway, signature: str, expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(DefinitionInvalid) as raised:
        await gateway.apply(signed(signature))

    found = [(p.field, p.message) for p in raised.value.problems]
    assert len(found) == len(expected), found
    for (field, message), (got_field, got_message) in zip(expected, found, strict=True):
        assert (got_field, message in got_message) == (field, True), got_message
    assert await definitions.load_documents() == []


# --- the secret across applies -------------------------------------------------------


async def stored_signature(key: str = "signed") -> dict[str, Any]:
    [doc] = await definitions.load_documents([key])
    signature: dict[str, Any] = doc["trigger"]["signature"]
    return signature


async def call(gateway: Gateway, secret: str) -> int:
    response = await gateway.post(
        "signed",
        content=BODY,
        headers={"content-type": "application/json", **signing.github(secret, BODY)},
    )
    return response.status_code


async def test_secret_is_stored_encrypted_and_kept_when_a_document_omits_it(
    gateway: Gateway,
) -> None:
    await gateway.apply(signed(f"{{preset: github, secret: {SECRET}}}"))
    first = await stored_signature()
    [again] = await gateway.apply(signed(f"{{preset: github, secret: {SECRET}}}"))
    [omitted] = await gateway.apply(signed("{preset: github}"))

    assert set(first) == {"preset", "secret"} and set(first["secret"]) == {"encrypted"}
    assert SECRET not in str(first)
    assert (again.action, omitted.action) == ("unchanged", "unchanged")
    assert await stored_signature() == first
    assert await call(gateway, SECRET) == 200


async def test_a_new_secret_replaces_the_old_one(gateway: Gateway) -> None:
    await gateway.apply(signed(f"{{preset: github, secret: {SECRET}}}"))
    [change] = await gateway.apply(signed("{preset: github, secret: rotated-secret-2}"))

    assert (change.action, change.version) == ("update", 2)
    assert await call(gateway, SECRET) == 401
    assert await call(gateway, "rotated-secret-2") == 200


async def test_a_new_signature_needs_a_secret(gateway: Gateway) -> None:
    with pytest.raises(DefinitionInvalid) as raised:
        await gateway.apply(signed("{preset: github}"))

    [problem] = raised.value.problems
    assert (problem.field, problem.message) == ("trigger.signature.secret", "required")


async def test_removing_the_signature_stops_checking(gateway: Gateway) -> None:
    await gateway.apply(signed(f"{{preset: github, secret: {SECRET}}}"))
    await gateway.apply(signed("null"))

    response = await gateway.post("signed", json={"order": 1})

    assert response.status_code == 200


async def test_a_secret_sealed_with_another_key_refuses_calls_with_503(
    settings_factory: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """GATEWAY_SECRET_KEY changed under stored secrets: nothing runs, the sender retries."""
    async with running_gateway(settings_factory(secret_key="k" * 40)) as gateway:
        await gateway.apply(signed(f"{{preset: github, secret: {SECRET}}}"))
    async with running_gateway(settings_factory(secret_key="z" * 40)) as gateway:
        response = await gateway.post(
            "signed",
            content=BODY,
            headers={"content-type": "application/json", **signing.github(SECRET, BODY)},
        )
        assert await gateway.executions() == []

    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"
    assert "cannot be decrypted with GATEWAY_SECRET_KEY" in caplog.text
