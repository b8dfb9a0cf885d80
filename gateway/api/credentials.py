"""Credentials over GraphQL: list (name, type, dates — never the secret), set (create or
rotate, the secret write-only), delete — what `gateway credentials` does, through the same
service functions, for the console."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.api.context import Info
from gateway.api.errors import bad_input
from gateway.core.errors import NotFound
from gateway.service import credentials
from gateway.service.credentials import CredentialInvalid, StoredCredential


@strawberry.type(description="A named secret request nodes use as {{$credentials.NAME}}")
class Credential:
    name: str
    type: str = strawberry.field(description="bearer, basic, header, hmac or secret")
    created_at: datetime
    updated_at: datetime = strawberry.field(description="When its secret was last set")
    last_used_at: datetime | None = strawberry.field(description="Its last outbound call")

    @classmethod
    def from_stored(cls, stored: StoredCredential) -> Credential:
        return cls(
            name=stored.name,
            type=stored.type,
            created_at=stored.created_at,
            updated_at=stored.updated_at,
            last_used_at=stored.last_used_at,
        )


@strawberry.type
class CredentialQuery:
    @strawberry.field(description="Every credential by name; secrets are never answered")
    async def credentials(self) -> list[Credential]:
        return [Credential.from_stored(c) for c in await credentials.listed()]


@strawberry.type
class CredentialMutation:
    @strawberry.mutation(
        description="Create a credential, or rotate its secret: encrypted with "
        "GATEWAY_SECRET_KEY, never answered"
    )
    async def set_credential(self, info: Info, name: str, type: str, secret: str) -> Credential:
        try:
            stored = await credentials.put(info.context.settings, name, type, secret)
        except CredentialInvalid as exc:
            raise bad_input(exc.problem.field, exc.problem.message, exc.problem.hint) from None
        return Credential.from_stored(stored)

    @strawberry.mutation(description="Delete a credential: nodes using it fail from now on")
    async def delete_credential(self, name: str) -> str:
        if not await credentials.delete(name):
            raise NotFound(f"no credential named {name!r}")
        return name
