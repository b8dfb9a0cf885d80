"""Credentials in the database (`credentials`): each secret only in its sealed form, which
the service seals and opens; nothing here ever sees a secret in clear."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.store.errors import translated
from gateway.store.models import Credential


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """What may be shown of a credential: never its secret."""

    name: str
    type: str
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None


def _shown(row: Credential) -> StoredCredential:
    return StoredCredential(row.name, row.type, row.created_at, row.updated_at, row.last_used_at)


async def put_credential(name: str, type_: str, sealed: dict[str, str]) -> StoredCredential:
    """Create the credential, or replace its type and secret (a rotation)."""
    async with translated("store credential"):
        row = await Credential.get_or_none(name=name)
        if row is None:
            row = await Credential.create(name=name, type=type_, secret=sealed)
        else:
            row.type, row.secret = type_, sealed
            await row.save(update_fields=["type", "secret", "updated_at"])
    return _shown(row)


async def list_credentials() -> list[StoredCredential]:
    async with translated("list credentials"):
        return [_shown(row) for row in await Credential.all().order_by("name")]


async def existing_names(names: Iterable[str]) -> set[str]:
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return set()
    async with translated("find credentials"):
        found = await Credential.filter(name__in=wanted).values_list("name", flat=True)
    return {str(name) for name in found}


async def sealed_secrets(names: Iterable[str]) -> dict[str, tuple[str, Any]]:
    """Name → (type, sealed secret) of the credentials among `names` that exist."""
    wanted = list(dict.fromkeys(names))
    async with translated("load credentials"):
        rows = await Credential.filter(name__in=wanted).values_list("name", "type", "secret")
    return {str(name): (str(type_), secret) for name, type_, secret in rows}


async def mark_used(names: Iterable[str], when: datetime) -> None:
    async with translated("mark credentials used"):
        await Credential.filter(name__in=list(names)).update(last_used_at=when)


async def delete_credential(name: str) -> bool:
    async with translated("delete credential"):
        return bool(await Credential.filter(name=name).delete())
