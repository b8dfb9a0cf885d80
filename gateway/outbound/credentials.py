"""Credentials for outbound calls: resolved by name at the moment of a call, and redacted
from whatever the call gives back.

The service installs the resolver (`install`) when it starts — it reads the sealed
secrets from the store and opens them with `GATEWAY_SECRET_KEY`; a `request` node asks
for the names its templates use (`resolve`) just before it sends, renders them into the
call, and passes its result and errors through `redact`, so no secret reaches a job
result, an execution's error or a log line.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from gateway.core.errors import NodeFailure

Resolver = Callable[[Sequence[str]], Awaitable[dict[str, str]]]
ROOT = "$credentials"
_resolver: Resolver | None = None


def install(resolver: Resolver | None) -> None:
    global _resolver
    _resolver = resolver


async def resolve(names: Sequence[str]) -> dict[str, str]:
    """Name → secret of each of `names`; NodeFailure naming any that does not exist."""
    if _resolver is None:
        raise NodeFailure("credentials are not available (the runtime has not started)")
    secrets = await _resolver(names)
    missing = [name for name in names if name not in secrets]
    if missing:
        raise NodeFailure(f"credential {', '.join(map(repr, missing))} does not exist")
    return secrets


def _forms(secret: str) -> list[str]:
    """The secret and the encoded forms it can take in a URL or a form body."""
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    return sorted((form for form in forms if form), key=len, reverse=True)


def redact(value: Any, secrets: Mapping[str, str]) -> Any:
    """`value` with every occurrence of a secret (text, in dict keys and values, in lists)
    replaced by `[credential NAME]`."""
    if not secrets:
        return value
    pairs = [(form, f"[credential {name}]") for name, s in secrets.items() for form in _forms(s)]
    return _redacted(value, pairs)


def _redacted(value: Any, pairs: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for secret, mark in pairs:
            if secret in value:
                value = value.replace(secret, mark)
        return value
    if isinstance(value, dict):
        return {_redacted(k, pairs): _redacted(v, pairs) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(item, pairs) for item in value]
    return value
