"""The Standard Webhooks signing scheme (standardwebhooks.com): OpenAI, Clerk, Resend,
Supabase and every sender built on Svix (docs/integrations/standard-webhooks.md).

    webhook-id: msg_2KWPBgLlAfxdpx2AI54pPJ85f4W
    webhook-timestamp: 1674087231
    webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,<old secret's>

The signed content is `{id}.{timestamp}.{body}`. The header is a space-separated list of
`<version>,<base64>`: `v1` an HMAC-SHA256 keyed with the secret (`whsec_<base64>`, the key
being the decoded bytes), `v1a` an Ed25519 signature checked with the sender's public key
(`whpk_<base64>`). Any signature of the secret's kind may match (a sender rotating its
secret signs with both); others are ignored. Svix-branded senders send `svix-id`,
`svix-timestamp` and `svix-signature` instead: those are read when `webhook-id` is absent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.security.signed import (
    DEFAULT_TOLERANCE,
    SignedRequest,
    check_timestamp,
    decode_digest,
    refused,
    required_header,
)

SYMMETRIC = "whsec_"
PUBLIC = "whpk_"
PRIVATE = "whsk_"


def parse_secret(secret: str) -> bytes | Ed25519PublicKey:
    """The HMAC key of a `whsec_` (or bare base64) secret, or the Ed25519 public key of a
    `whpk_` one; `ValueError` saying what is wrong (never showing the secret)."""
    if secret.startswith(PRIVATE):
        raise ValueError("whsk_ is the sender's private key: give its public key (whpk_…)")
    public = secret.startswith(PUBLIC)
    text = secret.removeprefix(PUBLIC if public else SYMMETRIC)
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (ValueError, binascii.Error):
        raise ValueError("must be whsec_ or whpk_ followed by base64") from None
    if not key:
        raise ValueError("the key after the prefix is empty")
    if not public:
        return key
    if len(key) != 32:
        raise ValueError("a whpk_ public key is 32 bytes of base64")
    return Ed25519PublicKey.from_public_bytes(key)


@dataclass(frozen=True, slots=True)
class StandardWebhooksVerifier:
    key: bytes | Ed25519PublicKey = field(repr=False)
    tolerance: int = DEFAULT_TOLERANCE

    def verify(self, request: SignedRequest, now: float) -> None:
        headers = request.headers
        prefix = "svix-" if "webhook-id" not in headers and "svix-id" in headers else "webhook-"
        message_id = required_header(headers, f"{prefix}id").strip()
        if not message_id:
            raise refused(f"the {prefix}id header is empty")
        stamp = f"{prefix}timestamp"
        timestamp = check_timestamp(headers.get(stamp), stamp, now, self.tolerance)
        signatures = required_header(headers, f"{prefix}signature")
        content = f"{message_id}.{timestamp}.".encode() + request.body
        version = "v1" if isinstance(self.key, bytes) else "v1a"
        candidates = [
            decode_digest(value, "base64")
            for name, _, value in (item.partition(",") for item in signatures.split(" "))
            if name == version
        ]
        if not candidates:
            raise refused(f"the {prefix}signature header has no {version} signature")
        if not any(self._matches(content, c) for c in candidates if c is not None):
            raise refused("the signature does not match")

    def _matches(self, content: bytes, signature: bytes) -> bool:
        if isinstance(self.key, bytes):
            expected = hmac.new(self.key, content, hashlib.sha256).digest()
            return hmac.compare_digest(expected, signature)
        try:
            self.key.verify(signature, content)
        except InvalidSignature:
            return False
        return True
