"""Basic-auth passwords: stored as a salted HMAC-SHA256, checked in constant time.

A webhook password is a machine-to-machine secret, usually long and random, checked on every
call; a slow password hash (scrypt, argon2) would cost milliseconds per request and protects
nothing a random secret needs. A per-password random salt keeps equal passwords from having
equal hashes. Format: `hmac-sha256$<salt hex>$<digest hex>`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_SCHEME = "hmac-sha256"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hmac.new(salt, password.encode(), hashlib.sha256).hexdigest()
    return f"{_SCHEME}${salt.hex()}${digest}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, salt_hex, digest = stored.split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    if scheme != _SCHEME:
        return False
    candidate = hmac.new(salt, password.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(candidate, digest)
