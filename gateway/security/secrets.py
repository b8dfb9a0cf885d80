"""Secrets the gateway must read back (signature secrets), encrypted with `GATEWAY_SECRET_KEY`.

Encryption is `cryptography`'s Fernet (AES-128-CBC with an HMAC-SHA256 tag, a random IV
per token); its key is derived from `GATEWAY_SECRET_KEY` with HKDF-SHA256, so the setting
can be any long random text. A stored secret is `{"encrypted": "<Fernet token>"}`.

The key is required outside dev (`SecretBox.from_settings` raises `ConfigError`). In dev
without a key, a fixed development key is used: secrets stored that way are readable by
anyone with the database, and a warning says so.
"""

from __future__ import annotations

import base64
import functools
import hmac
import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.core.errors import ConfigError
from gateway.core.settings import Settings

log = logging.getLogger("gateway.secrets")

MIN_KEY_LENGTH = 32
DEV_KEY = "development-only-key-never-use-in-production-0000"
_INFO = b"webhook-gateway stored secrets v1"
GENERATE_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def _fernet(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


class SecretBox:
    """Seals secrets for storage and opens them again. Never logs or reprs a secret."""

    __slots__ = ("_fernet",)

    def __init__(self, key: str) -> None:
        if len(key) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"GATEWAY_SECRET_KEY must be at least {MIN_KEY_LENGTH} characters; " + GENERATE_HINT
            )
        self._fernet = _fernet(key)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """The box for `GATEWAY_SECRET_KEY`; ConfigError when it is unset outside dev."""
        return _box_for(settings.secret_key, settings.dev)

    def seal(self, secret: str) -> dict[str, str]:
        """The stored form of `secret`: a fresh token each time (random IV)."""
        return {"encrypted": self._fernet.encrypt(secret.encode()).decode("ascii")}

    def open(self, sealed: Any) -> str:
        """The secret in a stored form; ConfigError when this key cannot read it."""
        token = sealed.get("encrypted") if isinstance(sealed, dict) else None
        if not isinstance(token, str):
            raise ConfigError("not a stored secret")
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise ConfigError(
                "a stored secret cannot be decrypted with GATEWAY_SECRET_KEY "
                "(was the key changed? apply the document again with its secret)"
            ) from exc

    def same(self, sealed: Any, secret: str) -> bool:
        """Whether `sealed` holds `secret` (False when it cannot be read)."""
        try:
            stored = self.open(sealed)
        except ConfigError:
            return False
        return hmac.compare_digest(stored.encode(), secret.encode())


@functools.lru_cache(maxsize=8)
def _box_for(key: str | None, dev: bool) -> SecretBox:
    if key:
        return SecretBox(key)
    if not dev:
        raise ConfigError(
            "GATEWAY_SECRET_KEY is required (it encrypts stored signature secrets); "
            "next to `make run`, set GATEWAY_DEV=1 instead (that server uses the development "
            "key, and a secret stored with another key is unreadable to it); in production, "
            "use the server's own key, or " + GENERATE_HINT
        )
    log.warning("GATEWAY_SECRET_KEY is not set: using the development key (dev only)")
    return SecretBox(DEV_KEY)
