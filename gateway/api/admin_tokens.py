"""Admin tokens over GraphQL: list, create (the text answered once), revoke — what
`gateway token create|list|revoke` does, through the same functions, for the console.

Only stored tokens are listed and revocable; those of `GATEWAY_ADMIN_TOKENS` and the
temporary dev token live in the server's settings and memory, not in the database.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.api.context import Info
from gateway.api.errors import bad_input
from gateway.api.queries import item_id
from gateway.core.errors import NotFound
from gateway.core.records import StoredToken
from gateway.service import tokens

MAX_NAME = 200  # api_tokens.name


@strawberry.type(description="A stored admin token; its text is never answered again")
class ApiToken:
    id: strawberry.ID
    name: str
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="Refreshed at most every 5 minutes: a hint, not an audit log"
    )

    @classmethod
    def from_stored(cls, token: StoredToken) -> ApiToken:
        return cls(
            id=strawberry.ID(str(token.id)),
            name=token.name,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
        )


@strawberry.type(description="A token just made: `token` is shown this once")
class NewApiToken:
    token: str = strawberry.field(description="Authorization: Bearer <token>; not stored")
    api_token: ApiToken


@strawberry.type
class TokenQuery:
    @strawberry.field(
        description="Stored admin tokens (not those of GATEWAY_ADMIN_TOKENS), oldest first"
    )
    async def api_tokens(self) -> list[ApiToken]:
        return [ApiToken.from_stored(token) for token in await tokens.list_tokens()]


@strawberry.type
class TokenMutation:
    @strawberry.mutation(description="A new admin token; its text is in this answer only")
    async def create_api_token(self, name: str = "") -> NewApiToken:
        if len(name) > MAX_NAME:
            raise bad_input("name", f"at most {MAX_NAME} characters")
        stored, token = await tokens.create_token(name)
        return NewApiToken(token=token, api_token=ApiToken.from_stored(stored))

    @strawberry.mutation(description="Delete a stored token: refused from the next request")
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        if not await tokens.revoke_token(item_id(id, what="token"), info.context.runtime.events):
            raise NotFound(f"no token with id {id}")
        return id
