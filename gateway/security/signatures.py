"""Webhook signatures: an HMAC over the raw body bytes, checked before anything runs.

A trigger's `signature` option is compiled once per workflow version into a verifier;
`verify(headers, body, now)` raises `Rejected(401)` on a missing, malformed or wrong
signature or a timestamp outside the tolerance. Comparisons are constant-time.

| preset  | header                              | signed bytes            | digest          |
|---------|-------------------------------------|-------------------------|-----------------|
| github  | `X-Hub-Signature-256: sha256=<hex>` | body                    | SHA-256, hex    |
| stripe  | `Stripe-Signature: t=<ts>,v1=<hex>` | `{t}.{body}`            | SHA-256, hex    |
| slack   | `X-Slack-Signature: v0=<hex>`       | `v0:{timestamp}:{body}` | SHA-256, hex    |
| shopify | `X-Shopify-Hmac-Sha256: <base64>`   | body                    | SHA-256, base64 |
| hmac    | `header`, optional `prefix`         | body, or `{ts}.{body}`  | as configured   |

Timestamps are Unix seconds; Stripe and Slack (and `hmac` with a `timestampHeader`) refuse a
call whose timestamp is more than `tolerance` seconds (default 300) from now, either way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.core.errors import ConfigError, Rejected
from gateway.security.secrets import SecretBox

log = logging.getLogger("gateway.signatures")

ALGORITHMS: Mapping[str, Callable[..., Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
ENCODINGS = ("hex", "base64")
DEFAULT_TOLERANCE = 300
MAX_TOLERANCE = 86_400
HMAC_FIELDS = frozenset(
    {"header", "algorithm", "encoding", "prefix", "timestampHeader", "tolerance"}
)
# The fields each preset lets a document set besides `preset` and `secret`.
PRESET_FIELDS: Mapping[str, frozenset[str]] = {
    "github": frozenset(),
    "stripe": frozenset({"tolerance"}),
    "slack": frozenset({"tolerance"}),
    "shopify": frozenset(),
    "hmac": HMAC_FIELDS,
}
CHALLENGE = {"www-authenticate": 'Signature realm="webhook"'}
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")

Payload = Callable[[str, bytes], bytes]


class Verifier(Protocol):
    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        """Return when the call is signed; raise `Rejected` otherwise."""


def refused(message: str) -> Rejected:
    return Rejected(401, "invalid_signature", message, headers=CHALLENGE)


def _decode(text: str, encoding: str) -> bytes | None:
    try:
        if encoding == "hex":
            return bytes.fromhex(text)
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return None


def _timestamp(text: str | None, header: str, now: float, tolerance: int) -> str:
    if text is None:
        raise refused(f"the {header} header is missing")
    text = text.strip()
    if not _TIMESTAMP.match(text):
        raise refused(f"the {header} header is not a Unix timestamp")
    if abs(now - int(text)) > tolerance:
        raise refused(f"the signature timestamp is more than {tolerance} s from now (replayed?)")
    return text


def _body_only(timestamp: str, body: bytes) -> bytes:
    return body


def _dotted(timestamp: str, body: bytes) -> bytes:
    return timestamp.encode() + b"." + body


def _slack(timestamp: str, body: bytes) -> bytes:
    return b"v0:" + timestamp.encode() + b":" + body


@dataclass(frozen=True, slots=True)
class HmacVerifier:
    """One signature in one header, over the body (or timestamp and body)."""

    key: bytes = field(repr=False)
    header: str
    algorithm: str = "sha256"
    encoding: str = "hex"
    prefix: str = ""
    timestamp_header: str | None = None
    tolerance: int = DEFAULT_TOLERANCE
    payload: Payload = _body_only

    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        given = headers.get(self.header)
        if given is None:
            raise refused(f"the {self.header} header is missing")
        timestamp = ""
        if self.timestamp_header is not None:
            timestamp = _timestamp(
                headers.get(self.timestamp_header), self.timestamp_header, now, self.tolerance
            )
        given = given.strip()
        digest = _decode(given.removeprefix(self.prefix), self.encoding)
        if not given.startswith(self.prefix) or digest is None:
            raise refused(f"the {self.header} header is malformed")
        expected = hmac.new(self.key, self.payload(timestamp, body), ALGORITHMS[self.algorithm])
        if not hmac.compare_digest(expected.digest(), digest):
            raise refused("the signature does not match")


@dataclass(frozen=True, slots=True)
class StripeVerifier:
    """`Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>…]`: any v1 may match (secret rolls)."""

    key: bytes = field(repr=False)
    tolerance: int = DEFAULT_TOLERANCE
    header = "stripe-signature"

    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        value = headers.get(self.header)
        if value is None:
            raise refused(f"the {self.header} header is missing")
        pairs = [item.strip().partition("=") for item in value.split(",")]
        stamps = [v for k, _, v in pairs if k == "t"]
        candidates = [_decode(v, "hex") for k, _, v in pairs if k == "v1"]
        if len(stamps) != 1 or not candidates:
            raise refused(f"the {self.header} header needs one t= and a v1= signature")
        timestamp = _timestamp(stamps[0], f"{self.header} t=", now, self.tolerance)
        expected = hmac.new(self.key, _dotted(timestamp, body), hashlib.sha256).digest()
        matches = [hmac.compare_digest(expected, c) for c in candidates if c is not None]
        if not any(matches):
            raise refused("the signature does not match")


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A signature whose stored secret this process cannot decrypt: every call is refused
    (503, so the sender retries once the operator has fixed the key)."""

    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        raise Rejected(
            503,
            "signature_unavailable",
            "this webhook cannot check signatures now; retry later",
            headers={"retry-after": "60"},
        )


def compile_signature(option: Mapping[str, Any], secret: str) -> Verifier:
    """A verifier for a validated `signature` option and its (decrypted) secret."""
    key = secret.encode()
    preset = option.get("preset", "hmac")
    tolerance = int(option.get("tolerance", DEFAULT_TOLERANCE))
    if preset == "stripe":
        return StripeVerifier(key, tolerance)
    if preset == "github":
        return HmacVerifier(key, "x-hub-signature-256", prefix="sha256=")
    if preset == "shopify":
        return HmacVerifier(key, "x-shopify-hmac-sha256", encoding="base64")
    if preset == "slack":
        return HmacVerifier(
            key,
            "x-slack-signature",
            prefix="v0=",
            timestamp_header="x-slack-request-timestamp",
            tolerance=tolerance,
            payload=_slack,
        )
    stamp = option.get("timestampHeader")
    return HmacVerifier(
        key,
        str(option["header"]).lower(),
        algorithm=option.get("algorithm", "sha256"),
        encoding=option.get("encoding", "hex"),
        prefix=option.get("prefix") or "",
        timestamp_header=str(stamp).lower() if stamp else None,
        tolerance=tolerance,
        payload=_dotted if stamp else _body_only,
    )


def signature_verifier(
    option: Mapping[str, Any] | None, box: SecretBox, workflow: str
) -> Verifier | None:
    """The verifier of a stored `signature` option (its secret sealed), or None."""
    if not option:
        return None
    try:
        secret = box.open(option.get("secret"))
    except ConfigError as exc:
        log.error("workflow %s: %s; its calls are refused", workflow, exc)
        return Unreadable()
    return compile_signature(option, secret)
