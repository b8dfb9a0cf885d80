"""What a signature verifier sees of a call, and how it refuses one (docs/security.md,
Signatures): shared by every signing scheme.

A verifier gets the call as the sender signed it — the decoded body, the headers by
lower-case name, the URL the sender called and the method — and raises `Rejected(401)`
saying which part failed. It never says what the right signature would have been.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from gateway.core.errors import Rejected

DEFAULT_TOLERANCE = 300
MAX_TOLERANCE = 86_400
CHALLENGE = {"www-authenticate": 'Signature realm="webhook"'}
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """`url` is the URL the sender called: `GATEWAY_PUBLIC_URL` + path + `?query`."""

    headers: Mapping[str, str]
    body: bytes
    url: str = ""
    method: str = "POST"


class Verifier(Protocol):
    def verify(self, request: SignedRequest, now: float) -> None:
        """Return when the call is signed; raise `Rejected` otherwise."""


def refused(message: str) -> Rejected:
    return Rejected(401, "invalid_signature", message, headers=CHALLENGE)


def decode_digest(text: str, encoding: str) -> bytes | None:
    """Hex or base64 text as bytes; None when it is neither."""
    try:
        if encoding == "hex":
            return bytes.fromhex(text)
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return None


def required_header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        raise refused(f"the {name} header is missing")
    return value


def check_timestamp(text: str | None, header: str, now: float, tolerance: int) -> str:
    """The timestamp text (Unix seconds) when it is within `tolerance` of `now`, either way:
    a stamp far in the future would make a captured call replayable later."""
    if text is None:
        raise refused(f"the {header} header is missing")
    text = text.strip()
    if not _TIMESTAMP.match(text):
        raise refused(f"the {header} header is not a Unix timestamp")
    if abs(now - int(text)) > tolerance:
        raise refused(f"the signature timestamp is more than {tolerance} s from now (replayed?)")
    return text
