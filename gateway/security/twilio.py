"""Twilio's request signature (docs/integrations/twilio.md): `X-Twilio-Signature` is the
base64 HMAC of the URL Twilio called, followed by every form parameter as name + value,
sorted by name (then value), keyed with the account's Auth Token.

    https://hooks.example.com/api/webhook:trigger/KEY?x=1 + "Body" + "hi" + "From" + "+1555…"

HMAC-SHA1 unless `X-Twilio-Webhooks-Signature-Settings` names `algorithm=HMAC_SHA256` (a
SharedKey). A JSON body is not a form: Twilio then adds `bodySHA256=<hex>` to the URL it
signs, and that hash must be the body's. Twilio is inconsistent about the default port in
the signed URL, so the URL is tried with and without it, as Twilio's own libraries do. The
URL is the gateway's public one (`GATEWAY_PUBLIC_URL`), which is what Twilio was given.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from gateway.security.signed import SignedRequest, refused, required_header

HEADER = "x-twilio-signature"
SETTINGS = "x-twilio-webhooks-signature-settings"
ALGORITHMS: dict[str, Callable[..., Any]] = {
    "HMAC_SHA1": hashlib.sha1,
    "HMAC_SHA256": hashlib.sha256,
}
FORM = "application/x-www-form-urlencoded"


def _algorithm(settings: str | None) -> str:
    for part in (settings or "").split(","):
        name, equals, value = part.partition("=")
        if equals and name.strip() == "algorithm" and value.strip():
            return value.strip().upper()
    return "HMAC_SHA1"


def _with_and_without_port(url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.port is not None:
        bare = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
        return [url, bare.geturl()]
    port = 443 if parts.scheme == "https" else 80
    return [url, parts._replace(netloc=f"{parts.netloc}:{port}").geturl()]


def _form_text(request: SignedRequest) -> str:
    """Form parameters as Twilio signs them; for any other body, its hash must be signed."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == FORM:
        pairs = parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        values: dict[str, set[str]] = {}
        for name, value in pairs:
            values.setdefault(name, set()).add(value)
        return "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    signed_hash = parse_qs(urlsplit(request.url).query).get("bodySHA256")
    if request.body and not signed_hash:
        raise refused("the body is neither a form nor covered by a bodySHA256 URL parameter")
    if signed_hash:
        actual = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(actual, signed_hash[0]):
            raise refused("the body does not match the signed bodySHA256")
    return ""


@dataclass(frozen=True, slots=True)
class TwilioVerifier:
    key: bytes = field(repr=False)

    def verify(self, request: SignedRequest, now: float) -> None:
        given = required_header(request.headers, HEADER).strip().encode()
        algorithm = _algorithm(request.headers.get(SETTINGS))
        digest = ALGORITHMS.get(algorithm)
        if digest is None:
            raise refused(f"the signature algorithm {algorithm!r} is not supported")
        params = _form_text(request)
        matches = [
            hmac.compare_digest(
                base64.b64encode(hmac.new(self.key, (url + params).encode(), digest).digest()),
                given,
            )
            for url in _with_and_without_port(request.url)
        ]
        if not any(matches):
            raise refused("the signature does not match")
