"""Secrets are write-only: signature secrets encrypted with GATEWAY_SECRET_KEY, basic-auth
passwords hashed, and neither in logs, the database, exports nor the GraphQL API."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tortoise import connections

from gateway.core.errors import ConfigError, DefinitionInvalid
from gateway.security.secrets import SecretBox
from gateway.workflows.export import dump_yaml, export_documents
from tests import signing
from tests.conftest import SettingsFactory
from tests.support import GATEWAY_BIN, Gateway, running_gateway

KEY = "k" * 32

# --- the box ---------------------------------------------------------------------------


def test_sealed_secrets_open_with_the_same_key_only() -> None:
    box = SecretBox(KEY)
    first, second = box.seal("whsec_abc"), box.seal("whsec_abc")

    assert first != second  # a random IV per token: equal secrets look different
    assert "whsec_abc" not in str(first)
    assert box.open(first) == box.open(second) == "whsec_abc"
    assert box.same(first, "whsec_abc") and not box.same(first, "whsec_abd")
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        SecretBox("z" * 32).open(first)
    assert not SecretBox("z" * 32).same(first, "whsec_abc")


@pytest.mark.parametrize(
    "sealed",
    [
        {"encrypted": "not a token"},  # garbage
        {"encrypted": 42},  # not text
        "gAAAAAB...",  # a bare token, not the stored form
        None,
    ],
)
def test_unreadable_stored_forms_are_config_errors(sealed: Any) -> None:
    with pytest.raises(ConfigError):
        SecretBox(KEY).open(sealed)


def test_keys_shorter_than_32_characters_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least 32 characters"):
        SecretBox("x" * 31)


def test_the_key_is_required_outside_dev(settings_factory: SettingsFactory) -> None:
    with pytest.raises(ConfigError, match="GATEWAY_SECRET_KEY is required"):
        SecretBox.from_settings(settings_factory(secret_key=None))
    dev = SecretBox.from_settings(settings_factory(secret_key=None, dev=True))
    assert dev.open(dev.seal("s")) == "s"
    assert "key hidden" in repr(dev)


def serve_without_key(database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    environ |= {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_CONFIG": "/nonexistent",
        "GATEWAY_ADMIN_TOKENS": "an-admin-token-for-this-test",
    }
    return subprocess.run(
        [GATEWAY_BIN, "serve", "--port", "1"],
        env=environ,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_serve_refuses_to_start_without_the_key(database_url: str, tmp_path: Path) -> None:
    result = serve_without_key(database_url, tmp_path)

    assert result.returncode == 1
    assert "GATEWAY_SECRET_KEY is required" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


SIGNED = """
key: signed
sync: true
trigger:
  signature: {preset: github, secret: "%s"}
nodes: [{key: reply, type: response, config: {statusCode: 200, body: {ok: true}}}]
"""


async def test_apply_without_the_key_refuses_only_documents_with_secrets(
    settings_factory: SettingsFactory,
) -> None:
    async with running_gateway(settings_factory()) as gateway:
        keyless = settings_factory(secret_key=None)
        gateway.settings = keyless
        with pytest.raises(DefinitionInvalid) as raised:
            await gateway.apply(SIGNED % "a-secret")
        [change] = await gateway.apply("key: plain")

    [problem] = raised.value.problems
    assert problem.field == "trigger.signature.secret"
    assert "GATEWAY_SECRET_KEY is required" in problem.message
    assert change.action == "create"


# --- nowhere to be found ---------------------------------------------------------------

SIGNATURE_SECRET = "sig-secret-Zq81vTn3"
PASSWORD = "basic-password-Lw27pXe9"
BOTH = f"""
key: guarded
sync: true
trigger:
  basicAuthentication: {{username: hooks, password: "{PASSWORD}"}}
  signature: {{preset: stripe, secret: "{SIGNATURE_SECRET}"}}
  request: {{body: [{{key: id, required: true}}]}}
nodes: [{{key: reply, type: response, config: {{statusCode: 200, body: {{ok: true}}}}}}]
"""


async def database_text() -> str:
    """Every row of every table of the test's database, as text."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "sqlite":
        listing = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        listing = "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
    tables = [row["name"] for row in await connection.execute_query_dict(listing)]
    assert {"triggers", "workflow_versions", "executions"} <= set(tables)
    dump = []
    for table in tables:
        dump.append(repr(await connection.execute_query_dict(f'SELECT * FROM "{table}"')))
    return "\n".join(dump)


async def graphql_text(gateway: Gateway) -> str:
    """What the GraphQL API shows of the workflow, or "" while there is no API."""
    if not any(getattr(route, "path", None) == "/graphql" for route in gateway.app.routes):
        return ""
    query = '{ workflow(key: "guarded") { document trigger { options basicAuthentication { enabled username } } } }'
    response = await gateway.client.post(
        "/graphql",
        json={"query": query},
        headers={"authorization": f"Bearer {gateway.settings.admin_tokens[0]}"},
    )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    assert response.json()["data"]["workflow"]["trigger"]["options"]["signature"] == {
        "preset": "stripe"
    }
    return response.text


async def test_secrets_are_in_no_log_row_export_or_api_output(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = b'{"id": "evt_1"}'
    auth = ("hooks", PASSWORD)
    json = {"content-type": "application/json"}

    await gateway.apply(BOTH)
    await gateway.apply(BOTH.replace("required: true", "required: false"))  # a second version
    good = await gateway.post(
        "guarded", content=body, auth=auth, headers=json | signing.stripe(SIGNATURE_SECRET, body)
    )
    forged = await gateway.post(
        "guarded", content=body, auth=auth, headers=json | signing.stripe("guess", body)
    )
    wrong_password = await gateway.post("guarded", content=body, auth=("hooks", "nope"))
    exported = dump_yaml(await export_documents())
    stored = await database_text()
    api = await graphql_text(gateway)

    assert [r.status_code for r in (good, forged, wrong_password)] == [200, 401, 401]
    assert "signature:\n    preset: stripe\n" in exported  # the option itself is exported
    for secret in (SIGNATURE_SECRET, PASSWORD):
        assert secret not in caplog.text
        assert secret not in stored
        assert secret not in exported
        assert secret not in api
    assert "encrypted" not in exported + api  # nor the sealed form
