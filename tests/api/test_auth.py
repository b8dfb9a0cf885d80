"""`/graphql` authentication (docs/api.md, Authentication): bearer tokens from settings, from `gateway token`
(only a hash stored), the dev-mode token; GraphiQL and introspection only when allowed."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
from pathlib import Path

import pytest

from gateway.core.errors import ConfigError
from gateway.store.models import ApiToken
from tests.api.client import AUTH, post
from tests.conftest import SettingsFactory
from tests.support import GATEWAY_BIN, TEST_ADMIN_TOKEN, TEST_SECRET_KEY, Gateway, running_gateway

QUERY = "{ nodeTypes { name } }"
INTROSPECTION = "{ __schema { queryType { name } } }"
HTML = {"accept": "text/html"}

REFUSED = [
    {},  # no Authorization header
    {"authorization": "Bearer not-a-token"},  # unknown token
    {"authorization": f"Basic {TEST_ADMIN_TOKEN}"},  # another scheme
    {"authorization": "Bearer"},  # no token at all
    {"authorization": f"Bearer {TEST_ADMIN_TOKEN}x"},  # a configured token plus one character
]


def gateway_cli(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env |= {"GATEWAY_DATABASE_URL": database_url, "GATEWAY_CONFIG": "/nonexistent"}
    env["GATEWAY_SECRET_KEY"] = TEST_SECRET_KEY
    return subprocess.run(
        [GATEWAY_BIN, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=30
    )


async def test_every_operation_needs_a_valid_bearer_token(gateway: Gateway) -> None:
    for headers in REFUSED:
        response = await post(gateway, QUERY, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == 'Bearer realm="gateway"'
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert (await post(gateway, QUERY)).status_code == 200


async def test_tokens_made_by_the_cli_work_until_revoked(
    settings_factory: SettingsFactory, database_url: str, tmp_path: Path
) -> None:
    created = gateway_cli(database_url, tmp_path, "token", "create", "--name", "deploy-bot")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert re.fullmatch(r"gw_[A-Za-z0-9_-]{43}", token)
    listed = gateway_cli(database_url, tmp_path, "token", "list")
    assert "deploy-bot" in listed.stdout and token not in listed.stdout
    async with running_gateway(settings_factory(admin_tokens=())) as gateway:
        [row] = await ApiToken.all()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        bearer = {"authorization": f"Bearer {token}"}
        assert (await post(gateway, QUERY, headers=bearer)).status_code == 200
        revoked = gateway_cli(database_url, tmp_path, "token", "revoke", str(row.id))
        assert revoked.returncode == 0, revoked.stderr
        assert (await post(gateway, QUERY, headers=bearer)).status_code == 401


async def test_the_server_refuses_to_start_without_a_token(
    settings_factory: SettingsFactory, database_url: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="no GraphQL admin token"):
        async with running_gateway(settings_factory(admin_tokens=())):
            pass
    served = gateway_cli(database_url, tmp_path, "serve", "--port", "1")
    assert served.returncode == 1
    assert "no GraphQL admin token is configured" in served.stderr
    assert "Traceback" not in served.stderr


async def test_dev_mode_prints_a_temporary_token_and_opens_graphiql(
    settings_factory: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.api")
    async with running_gateway(settings_factory(admin_tokens=(), dev=True)) as gateway:
        [token] = re.findall(r"gw_[A-Za-z0-9_-]+", caplog.text)
        bearer = {"authorization": f"Bearer {token}"}
        assert (await post(gateway, QUERY, headers=bearer)).status_code == 200
        answer = (await post(gateway, INTROSPECTION, headers=bearer)).json()
        assert answer["data"] == {"__schema": {"queryType": {"name": "Query"}}}
        page = await gateway.client.get("/graphql", headers=HTML)  # the page needs no token
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        assert (await post(gateway, QUERY, headers={})).status_code == 401


async def test_introspection_and_graphiql_are_off_outside_dev(
    gateway: Gateway, settings_factory: SettingsFactory
) -> None:
    answer = (await post(gateway, INTROSPECTION)).json()
    assert answer["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert (await gateway.client.get("/graphql", headers=HTML)).status_code == 401
    assert (await gateway.client.get("/graphql", headers={**HTML, **AUTH})).status_code == 404
    async with running_gateway(settings_factory(introspection=True)) as opened:
        answer = (await post(opened, INTROSPECTION)).json()
        assert answer["data"] == {"__schema": {"queryType": {"name": "Query"}}}
