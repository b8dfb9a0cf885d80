"""Basic authentication of webhook calls, with constant-time checks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from gateway.core.errors import Rejected
from gateway.security.passwords import verify_password

CHALLENGE = {"www-authenticate": 'Basic realm="webhook"'}
# Per (username, stored hash): the SHA-256 of the last `Authorization` value that passed.
# A provider sends the same value on every call; matching it again skips decoding and the
# salted HMAC on the hot path. Only a digest is kept.
_PASSED: dict[tuple[str, str], bytes] = {}
_PASSED_MAX = 10_000


def unauthorized() -> Rejected:
    return Rejected(401, "unauthorized", "valid credentials are required", headers=CHALLENGE)


def credentials(header: str | None) -> tuple[str, str] | None:
    """(username, password) from an `Authorization: Basic …` value, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def check_basic(header: str | None, username: str, password_hash: str | None) -> None:
    """Raise 401 unless the header carries this username and password."""
    key = (username, password_hash or "")
    digest = hashlib.sha256(header.encode()).digest() if header else b""
    if digest and hmac.compare_digest(digest, _PASSED.get(key, b"")):
        return
    given = credentials(header)
    if given is None:
        raise unauthorized()
    # Evaluate both comparisons every time so timing does not tell which one failed.
    name_ok = hmac.compare_digest(given[0].encode(), username.encode())
    password_ok = verify_password(given[1], password_hash)
    if not (name_ok and password_ok):
        raise unauthorized()
    if len(_PASSED) >= _PASSED_MAX:
        _PASSED.clear()
    _PASSED[key] = digest
