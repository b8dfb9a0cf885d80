"""One switch for every shortcut through a library's private internals.

Where speed needs a library's internals (Tortoise's and aiosqlite's, asyncpg's pool as
Tortoise holds it, graphql-core's executor, arq's worker), the module that takes the shortcut
keeps the plain public-API path beside it and takes the shortcut only while `enabled()`.
`GATEWAY_SHORTCUTS=false` turns every one of them off: CI runs the whole suite both ways,
and it is the first thing to try after upgrading one of those libraries. Each shortcut
and what it saves are listed in docs/architecture.md.

The switch is per process: the server's runtime and the worker set it from their
settings when they start.
"""

from __future__ import annotations

_enabled = True


def configure(enabled: bool) -> None:
    global _enabled
    _enabled = enabled


def enabled() -> bool:
    return _enabled
