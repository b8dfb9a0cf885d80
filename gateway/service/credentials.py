"""Credentials: named secrets `request` nodes use to call out (docs/security.md,
Credentials). One set of use cases for GraphQL, the CLI and the console.

A secret is sealed with `GATEWAY_SECRET_KEY` (as signature secrets are) before it is
stored, never answered, logged or exported, and opened only when a node's call needs it
(`resolver`). `{{$credentials.NAME}}` renders the secret as given, except for `basic`,
whose secret is `user:password` and which renders as the base64 text that follows
`Authorization: Basic `.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.core.clock import utcnow
from gateway.core.errors import Problem
from gateway.core.settings import Settings
from gateway.outbound import credentials as outbound_credentials
from gateway.security.secrets import SecretBox
from gateway.store import credentials as store
from gateway.store import resealing
from gateway.store.credentials import StoredCredential

__all__ = ["TYPES", "StoredCredential", "delete", "listed", "put", "resolver", "rotate_key"]

TYPES = ("bearer", "basic", "header", "hmac", "secret")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,99}")
MAX_SECRET = 8192
# `last_used_at` is a hint, as for admin tokens: written at most this often per process
TOUCH_INTERVAL = timedelta(minutes=5)
_NEVER = datetime.min.replace(tzinfo=UTC)


class CredentialInvalid(ValueError):
    """A credential that cannot be stored; `problem` says which field and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def problems(name: str, type_: str, secret: str) -> list[Problem]:
    found = []
    if not NAME.fullmatch(name):
        hint = "letters, digits, _ and -, starting with a letter or _ (it is a template path)"
        found.append(Problem("name", "not a credential name", hint=hint))
    if type_ not in TYPES:
        found.append(Problem("type", f"must be one of {', '.join(TYPES)}"))
    if not secret or len(secret) > MAX_SECRET or "\x00" in secret:
        found.append(Problem("secret", f"required: 1 to {MAX_SECRET} characters, no NUL"))
    elif type_ == "basic" and ":" not in secret:
        found.append(Problem("secret", "a basic credential is user:password"))
    return found


async def put(settings: Settings, name: str, type_: str, secret: str) -> StoredCredential:
    """Create or rotate a credential; CredentialInvalid with the first problem."""
    found = problems(name, type_, secret)
    if found:
        raise CredentialInvalid(found[0])
    sealed = SecretBox.from_settings(settings).seal(secret)
    return await store.put_credential(name, type_, sealed)


async def listed() -> list[StoredCredential]:
    return await store.list_credentials()


async def delete(name: str) -> bool:
    return await store.delete_credential(name)


def _rendered(type_: str, secret: str) -> str:
    if type_ == "basic":
        return base64.b64encode(secret.encode()).decode("ascii")
    return secret


def resolver(settings: Settings) -> outbound_credentials.Resolver:
    """What `request` nodes call for their credentials: opened at the moment of the call."""
    box = SecretBox.from_settings(settings)
    touched: dict[str, datetime] = {}

    async def resolve(names: Sequence[str]) -> dict[str, str]:
        sealed = await store.sealed_secrets(names)
        now = utcnow()
        stale = [name for name in sealed if now - touched.get(name, _NEVER) >= TOUCH_INTERVAL]
        if stale:
            await store.mark_used(stale, now)
            touched.update(dict.fromkeys(stale, now))
        return {
            name: _rendered(type_, box.open(secret)) for name, (type_, secret) in sealed.items()
        }

    return resolve


def install(settings: Settings) -> None:
    outbound_credentials.install(resolver(settings))


async def rotate_key(settings: Settings, old_key: str) -> int:
    """Re-encrypt every stored secret sealed with `old_key` (credentials, signature secrets
    and the version snapshots holding them) under the current `GATEWAY_SECRET_KEY`, in one
    transaction; how many secrets. ConfigError when one cannot be opened with `old_key`."""
    old, new = SecretBox(old_key), SecretBox.from_settings(settings)
    count = 0

    def reseal(value: Any) -> Any:
        nonlocal count
        if isinstance(value, dict) and set(value) == {"encrypted"}:
            count += 1
            return new.seal(old.open(value))
        if isinstance(value, dict):
            return {key: reseal(item) for key, item in value.items()}
        if isinstance(value, list):
            return [reseal(item) for item in value]
        return value

    await resealing.reseal_all(reseal)
    return count
