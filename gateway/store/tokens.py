"""GraphQL bearer tokens in the database (`api_tokens`): only each token's SHA-256 is stored."""

from __future__ import annotations

from datetime import datetime

from gateway.core.records import StoredToken
from gateway.store.errors import translated
from gateway.store.models import ApiToken


def _stored(row: ApiToken) -> StoredToken:
    return StoredToken(row.id, row.name, row.created_at, row.last_used_at)


async def add_token(name: str, token_hash: str) -> StoredToken:
    async with translated("store API token"):
        return _stored(await ApiToken.create(name=name, token_hash=token_hash))


async def find_token(token_hash: str) -> StoredToken | None:
    async with translated("find API token"):
        row = await ApiToken.get_or_none(token_hash=token_hash)
    return _stored(row) if row is not None else None


async def mark_used(token_id: int, when: datetime) -> None:
    async with translated("mark API token used"):
        await ApiToken.filter(id=token_id).update(last_used_at=when)


async def count_tokens() -> int:
    async with translated("count API tokens"):
        return await ApiToken.all().count()


async def list_tokens() -> list[StoredToken]:
    async with translated("list API tokens"):
        return [_stored(row) for row in await ApiToken.all().order_by("id")]


async def delete_token(token_id: int) -> bool:
    async with translated("revoke API token"):
        return bool(await ApiToken.filter(id=token_id).delete())
