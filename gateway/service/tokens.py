"""Admin tokens of the GraphQL API: where they come from and how they are checked
(docs/api.md, Authentication).

A token is accepted when it is listed in `GATEWAY_ADMIN_TOKENS` or when its SHA-256 is in the
`api_tokens` table (`gateway token create`, which prints the token once). Tokens are random
(256 bits), so a plain SHA-256 is enough: there is nothing to brute-force. A server with no
token at all refuses to start, except in dev mode, where it makes a temporary one, kept in
memory for the life of the process, and logs it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta

from gateway.core.errors import ConfigError
from gateway.core.records import StoredToken
from gateway.core.settings import Settings
from gateway.service.events import Events
from gateway.store import tokens

log = logging.getLogger("gateway.api")
PREFIX = "gw_"
# `last_used_at` is a hint for operators, not an audit log: refresh it at most this often.
TOUCH_INTERVAL = timedelta(minutes=5)
NO_TOKEN = (
    "no GraphQL admin token is configured: set GATEWAY_ADMIN_TOKENS, run "
    "`gateway token create`, or set GATEWAY_DEV=1 for a temporary one"
)


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(name: str) -> tuple[StoredToken, str]:
    """A new stored token and its text, which is not kept anywhere."""
    token = new_token()
    return await tokens.add_token(name, token_hash(token)), token


async def list_tokens() -> list[StoredToken]:
    """Stored tokens, oldest first (never their text: only its hash is kept)."""
    return await tokens.list_tokens()


async def revoke_token(token_id: int, events: Events | None = None) -> bool:
    """Delete a stored token; False when there is none with this id. Open subscriptions
    (their tokens checked again) hear of it through `events`."""
    deleted = await tokens.delete_token(token_id)
    if deleted and events is not None:
        events.revoked()
    return deleted


async def any_configured(settings: Settings) -> bool:
    return bool(settings.admin_tokens) or await tokens.count_tokens() > 0


async def require_token(settings: Settings) -> None:
    """ConfigError when the server would have no admin token (dev mode makes one)."""
    if not settings.dev and not await any_configured(settings):
        raise ConfigError(NO_TOKEN)


class AdminTokens:
    """Checks bearer tokens for one server process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._configured = [token_hash(t) for t in settings.admin_tokens]

    async def start(self) -> None:
        """Refuse to run without a token (ConfigError), except in dev mode."""
        await require_token(self.settings)
        if await any_configured(self.settings):
            return
        token = new_token()
        self._configured.append(token_hash(token))
        console = self.settings.public_url.rstrip("/") + "/console/"
        log.warning("GATEWAY_DEV: temporary GraphQL admin token: %s (console: %s)", token, console)

    async def accepts(self, token: str) -> bool:
        digest = token_hash(token)
        # Every configured hash is compared, in constant time, whatever matches.
        matches = [hmac.compare_digest(digest, known) for known in self._configured]
        if any(matches):
            return True
        stored = await tokens.find_token(digest)
        if stored is None:
            return False
        now = datetime.now(UTC)
        if stored.last_used_at is None or now - stored.last_used_at > TOUCH_INTERVAL:
            await tokens.mark_used(stored.id, now)
        return True
