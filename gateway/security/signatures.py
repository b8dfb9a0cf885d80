"""Webhook signatures, checked before anything runs (docs/security.md, Signatures).

A trigger's `signature` option is compiled once per workflow version into a verifier;
`verify(request, now)` raises `Rejected(401)` on a missing, malformed or wrong signature or
a timestamp outside the tolerance. Comparisons are constant-time.

| preset            | header                        | signed content              | digest         |
|-------------------|-------------------------------|-----------------------------|----------------|
| github            | `X-Hub-Signature-256`         | body                        | SHA-256, hex   |
| stripe            | `Stripe-Signature` (t=, v1=)  | `{t}.{body}`                | SHA-256, hex   |
| slack             | `X-Slack-Signature` (v0=)     | `v0:{timestamp}:{body}`     | SHA-256, hex   |
| shopify           | `X-Shopify-Hmac-Sha256`       | body                        | SHA-256 base64 |
| standard-webhooks | `webhook-signature` (v1, v1a) | `{id}.{timestamp}.{body}`   | HMAC or EdDSA  |
| twilio            | `X-Twilio-Signature`          | URL + sorted form fields    | SHA-1 base64   |
| hmac              | `header`, optional `prefix`   | `content`, default `{body}` | as configured  |

The generic `hmac` preset's `content` says what is signed, with the fields `{body}`,
`{url}` (the URL the sender called), `{method}`, `{timestamp}` (the `timestampHeader`,
checked against the tolerance) and `{header.<name>}`; `{{` and `}}` are literal braces:

    parse_content("v0:{timestamp}:{body}")
    == (("text", "v0:"), ("timestamp", ""), ("text", ":"), ("body", ""))

Timestamps are Unix seconds, refused more than `tolerance` seconds (default 300) from now,
either way.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.core.errors import ConfigError, Rejected
from gateway.security.secrets import SecretBox
from gateway.security.signed import (
    DEFAULT_TOLERANCE,
    SignedRequest,
    Verifier,
    check_timestamp,
    decode_digest,
    refused,
    required_header,
)
from gateway.security.standard_webhooks import StandardWebhooksVerifier, parse_secret
from gateway.security.twilio import TwilioVerifier

log = logging.getLogger("gateway.signatures")

ALGORITHMS: Mapping[str, Callable[..., Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
ENCODINGS = ("hex", "base64")
HMAC_FIELDS = frozenset(
    {
        "header",
        "algorithm",
        "encoding",
        "prefix",
        "timestampHeader",
        "tolerance",
        "content",
        "delimiter",
    }
)
# The fields each preset lets a document set besides `preset` and `secret`.
PRESET_FIELDS: Mapping[str, frozenset[str]] = {
    "github": frozenset(),
    "stripe": frozenset({"tolerance"}),
    "slack": frozenset({"tolerance"}),
    "shopify": frozenset(),
    "standard-webhooks": frozenset({"tolerance"}),
    "twilio": frozenset(),
    "hmac": HMAC_FIELDS,
}
CONTENT_FIELDS = ("body", "url", "method", "timestamp", "header.<name>")
_CONTENT = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")

Part = tuple[str, str]


def parse_content(text: str) -> tuple[Part, ...]:
    """The parts of a `content` text (see the module docstring); `ValueError` naming the
    first fault: an unknown field, a lone brace, or no `{body}` (an unsigned body could be
    anything)."""
    parts: list[Part] = []
    pos = 0
    for match in _CONTENT.finditer(text):
        if match.start() > pos:
            parts.append(("text", text[pos : match.start()]))
        pos = match.end()
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            parts.append(("text", token[0]))
        elif name is None:
            raise ValueError(f"a lone {token!r} at position {match.start()}: write it twice")
        else:
            parts.append(_field(name.strip()))
    if pos < len(text):
        parts.append(("text", text[pos:]))
    if ("body", "") not in parts:
        raise ValueError("must sign {body}: a body outside the signature could be anything")
    return tuple(parts)


def _field(name: str) -> Part:
    if name in ("body", "url", "method", "timestamp"):
        return (name, "")
    kind, dot, header = name.partition(".")
    if kind == "header" and dot and header.strip():
        return ("header", header.strip().lower())
    raise ValueError(f"unknown field {{{name}}}; fields: {', '.join(CONTENT_FIELDS)}")


def default_content(timestamp_header: str | None) -> str:
    return "{timestamp}.{body}" if timestamp_header else "{body}"


def _payload(parts: tuple[Part, ...], request: SignedRequest, timestamp: str) -> bytes:
    out: list[bytes] = []
    for kind, value in parts:
        if kind == "body":
            out.append(request.body)
        elif kind == "text":
            out.append(value.encode())
        elif kind == "header":
            out.append(required_header(request.headers, value).encode("latin-1", "replace"))
        else:
            chosen = {"url": request.url, "method": request.method, "timestamp": timestamp}[kind]
            out.append(chosen.encode())
    return b"".join(out)


BODY_ONLY: tuple[Part, ...] = (("body", ""),)


@dataclass(frozen=True, slots=True)
class HmacVerifier:
    """An HMAC of `content` in one header (`delimiter`: several signatures in it, any of
    which may match; items without `prefix` are ignored)."""

    key: bytes = field(repr=False)
    header: str
    algorithm: str = "sha256"
    encoding: str = "hex"
    prefix: str = ""
    timestamp_header: str | None = None
    tolerance: int = DEFAULT_TOLERANCE
    content: tuple[Part, ...] = BODY_ONLY
    delimiter: str | None = None

    def verify(self, request: SignedRequest, now: float) -> None:
        given = required_header(request.headers, self.header)
        timestamp = ""
        if self.timestamp_header is not None:
            text = request.headers.get(self.timestamp_header)
            timestamp = check_timestamp(text, self.timestamp_header, now, self.tolerance)
        if self.delimiter:
            items = [i.strip() for i in given.split(self.delimiter)]
            items = [i for i in items if i.startswith(self.prefix)]  # other schemes' items
        else:
            items = [given.strip()]
        digests = [self._digest(item) for item in items]
        if not digests or None in digests:
            raise refused(f"the {self.header} header is malformed")
        payload = _payload(self.content, request, timestamp)
        expected = hmac.new(self.key, payload, ALGORITHMS[self.algorithm]).digest()
        if not any(hmac.compare_digest(expected, d) for d in digests if d is not None):
            raise refused("the signature does not match")

    def _digest(self, item: str) -> bytes | None:
        if not item.startswith(self.prefix):
            return None
        return decode_digest(item.removeprefix(self.prefix), self.encoding)


@dataclass(frozen=True, slots=True)
class StripeVerifier:
    """`Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>…]`: any v1 may match (secret rolls)."""

    key: bytes = field(repr=False)
    tolerance: int = DEFAULT_TOLERANCE
    header = "stripe-signature"

    def verify(self, request: SignedRequest, now: float) -> None:
        value = required_header(request.headers, self.header)
        pairs = [item.strip().partition("=") for item in value.split(",")]
        stamps = [v for k, _, v in pairs if k == "t"]
        candidates = [decode_digest(v, "hex") for k, _, v in pairs if k == "v1"]
        if len(stamps) != 1 or not candidates:
            raise refused(f"the {self.header} header needs one t= and a v1= signature")
        timestamp = check_timestamp(stamps[0], f"{self.header} t=", now, self.tolerance)
        signed = timestamp.encode() + b"." + request.body
        expected = hmac.new(self.key, signed, hashlib.sha256).digest()
        matches = [hmac.compare_digest(expected, c) for c in candidates if c is not None]
        if not any(matches):
            raise refused("the signature does not match")


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A signature whose stored secret this process cannot decrypt: every call is refused
    (503, so the sender retries once the operator has fixed the key)."""

    def verify(self, request: SignedRequest, now: float) -> None:
        raise Rejected(
            503,
            "signature_unavailable",
            "this webhook cannot check signatures now; retry later",
            headers={"retry-after": "60"},
        )


def secret_problem(preset: str, secret: str) -> str | None:
    """What is wrong with a secret for `preset`, without showing it; None when usable."""
    if preset != "standard-webhooks":
        return None
    try:
        parse_secret(secret)
    except ValueError as exc:
        return str(exc)
    return None


def compile_signature(option: Mapping[str, Any], secret: str) -> Verifier:
    """A verifier for a validated `signature` option and its (decrypted) secret."""
    key = secret.encode()
    preset = option.get("preset", "hmac")
    tolerance = int(option.get("tolerance", DEFAULT_TOLERANCE))
    if preset == "stripe":
        return StripeVerifier(key, tolerance)
    if preset == "standard-webhooks":
        return StandardWebhooksVerifier(parse_secret(secret), tolerance)
    if preset == "twilio":
        return TwilioVerifier(key)
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
            content=parse_content("v0:{timestamp}:{body}"),
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
        content=parse_content(option.get("content") or default_content(stamp)),
        delimiter=option.get("delimiter") or None,
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
