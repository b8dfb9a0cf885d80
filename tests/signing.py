"""Webhook signatures computed the way each provider's documentation describes them, for
tests that play the provider."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def digest(secret: str, payload: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(secret.encode(), payload, getattr(hashlib, algorithm)).digest()


def github(secret: str, body: bytes) -> dict[str, str]:
    """GitHub: `X-Hub-Signature-256: sha256=` + hex HMAC-SHA256 of the body."""
    return {"x-hub-signature-256": "sha256=" + digest(secret, body).hex()}


def stripe(secret: str, body: bytes, at: float | None = None, *others: str) -> dict[str, str]:
    """Stripe: `Stripe-Signature: t=<ts>,v1=<hex>` over `{t}.{body}`; `others` are further
    secrets signed alongside (as while a secret is rolled)."""
    stamp = str(int(time.time() if at is None else at))
    payload = stamp.encode() + b"." + body
    signatures = [f"v1={digest(s, payload).hex()}" for s in (*others, secret)]
    return {"stripe-signature": ",".join([f"t={stamp}", *signatures])}


def slack(secret: str, body: bytes, at: float | None = None) -> dict[str, str]:
    """Slack: `X-Slack-Signature: v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    stamp = str(int(time.time() if at is None else at))
    base = b"v0:" + stamp.encode() + b":" + body
    return {
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": "v0=" + digest(secret, base).hex(),
    }


def shopify(secret: str, body: bytes) -> dict[str, str]:
    """Shopify: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the body."""
    return {"x-shopify-hmac-sha256": base64.b64encode(digest(secret, body)).decode()}
