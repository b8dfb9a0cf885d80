"""Admin tokens over GraphQL (`apiTokens`, `createApiToken`, `revokeApiToken`): the console's
token screen, on the functions `gateway token` uses."""

from __future__ import annotations

from tests.api.client import data, error, post
from tests.support import Gateway

LIST = "{ apiTokens { id name createdAt lastUsedAt } }"
CREATE = """
mutation($name: String!) { createApiToken(name: $name) { token apiToken { id name lastUsedAt } } }
"""
REVOKE = "mutation($id: ID!) { revokeApiToken(id: $id) }"


async def test_a_created_token_works_once_shown_and_stops_when_revoked(gateway: Gateway) -> None:
    created = (await data(gateway, CREATE, name="console"))["createApiToken"]
    token, stored = created["token"], created["apiToken"]
    assert token.startswith("gw_") and stored["name"] == "console"
    bearer = {"authorization": f"Bearer {token}"}
    assert (await post(gateway, "{ nodeTypes { name } }", headers=bearer)).status_code == 200

    [listed] = (await data(gateway, LIST))["apiTokens"]
    assert listed["id"] == stored["id"] and listed["lastUsedAt"] is not None
    assert token not in str(listed)  # the text is answered once, at creation

    assert (await data(gateway, REVOKE, id=stored["id"]))["revokeApiToken"] == stored["id"]
    assert (await data(gateway, LIST))["apiTokens"] == []
    refused = await post(gateway, "{ nodeTypes { name } }", headers=bearer)
    assert refused.status_code == 401


async def test_revoking_an_unknown_token_or_a_long_name_is_refused(gateway: Gateway) -> None:
    assert (await error(gateway, REVOKE, id="999"))["extensions"]["code"] == "NOT_FOUND"
    assert (await error(gateway, REVOKE, id="x"))["extensions"]["code"] == "BAD_USER_INPUT"
    too_long = await error(gateway, CREATE, name="n" * 201)
    assert too_long["extensions"]["field"] == "name"
