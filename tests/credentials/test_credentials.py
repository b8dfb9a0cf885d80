"""Credentials end to end: set over GraphQL and the CLI, used by a request node against a
real HTTP server, and found nowhere else — not in the database file, API answers, job
results, errors, exports or logs."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.core.errors import DefinitionInvalid
from gateway.workflows.export import export_documents
from tests.api.client import call, data, error
from tests.conftest import SettingsFactory
from tests.httpserver import Answer, Received, TestServer
from tests.signing import github
from tests.support import GATEWAY_BIN, TEST_SECRET_KEY, Gateway, running_gateway

TOKEN = "tok_live_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
SET = """
mutation($name: String!, $type: String!, $secret: String!) {
  setCredential(name: $name, type: $type, secret: $secret) { name type createdAt lastUsedAt }
}
"""
CALLER = """
key: caller
sync: true
nodes:
  - key: call
    type: request
    config:
      url: "%(url)s?key={{$credentials.crm}}"
      method: POST
      headers: [{name: Authorization, value: "Bearer {{$credentials.crm}}"}]
      data: {token: "{{$credentials.crm}}", id: "{{$context.body.id}}"}
  - {key: reply, type: response, config: {statusCode: 200, body: "{{$jobsMapByNodeKey.call}}"}}
"""


async def echo_everything(request: Received) -> Answer:
    """A downstream that echoes the call, headers included (as httpbin does)."""
    return Answer(
        200, {"target": request.target, "headers": request.headers, "body": request.body.decode()}
    )


@pytest.fixture
async def downstream() -> AsyncIterator[TestServer]:
    async with TestServer(echo_everything) as server:
        yield server


@pytest.fixture
async def gateway(settings_factory: SettingsFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(settings_factory(outbound_allow=("127.0.0.0/8",))) as running:
        yield running


def sqlite_file(gateway: Gateway) -> Path:
    return Path(gateway.settings.database_url.removeprefix("sqlite://"))


@pytest.mark.sqlite_only  # scans the database file
async def test_a_credential_is_sent_downstream_and_found_nowhere_else(
    gateway: Gateway, downstream: TestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = (await data(gateway, SET, name="crm", type="bearer", secret=TOKEN))["setCredential"]
    await gateway.apply(CALLER % {"url": downstream.url("/orders")})

    answer = await gateway.post("caller", json={"id": "o-1"})
    await gateway.drain()

    [received] = downstream.received
    assert received.headers["authorization"] == f"Bearer {TOKEN}"
    assert received.target == f"/orders?key={TOKEN}"
    assert received.json() == {"token": TOKEN, "id": "o-1"}
    assert (created["name"], created["type"], created["lastUsedAt"]) == ("crm", "bearer", None)
    assert answer.status_code == 200
    assert "[credential crm]" in answer.text

    listed = await data(gateway, "{ credentials { name type lastUsedAt } }")
    executions = await call(
        gateway, "{ executions { edges { node { error context rawBody jobs { result } } } } }"
    )
    workflows = await call(gateway, "{ workflows { edges { node { document } } } }")
    exported = orjson.dumps(await export_documents()).decode()
    database = sqlite_file(gateway).read_bytes() + b"".join(
        p.read_bytes() for p in sqlite_file(gateway).parent.glob("*.db-wal")
    )
    logs = "\n".join(record.getMessage() for record in caplog.records)

    assert listed["credentials"][0]["lastUsedAt"] is not None
    assert "{{$credentials.crm}}" in exported
    for place, text in [
        ("answer", answer.text),
        ("credentials", orjson.dumps(listed).decode()),
        ("executions", orjson.dumps(executions).decode()),
        ("workflows", orjson.dumps(workflows).decode()),
        ("export", exported),
        ("logs", logs),
    ]:
        assert TOKEN not in text, place
    assert TOKEN.encode() not in database


async def test_apply_refuses_a_credential_that_does_not_exist(gateway: Gateway) -> None:
    with pytest.raises(DefinitionInvalid) as refused:
        await gateway.apply(CALLER % {"url": "http://127.0.0.2:9/x"})

    [problem] = refused.value.problems
    assert problem.message == "credential 'crm' does not exist"
    assert problem.field == "nodes[call].config"
    assert problem.hint is not None and "gateway credentials set crm" in problem.hint


async def test_credentials_only_in_request_nodes(gateway: Gateway) -> None:
    await data(gateway, SET, name="crm", type="bearer", secret=TOKEN)
    leaky = """
key: leaky
sync: true
nodes:
  - {key: reply, type: response, config: {statusCode: 200, body: "{{$credentials.crm}}"}}
"""
    with pytest.raises(DefinitionInvalid) as refused:
        await gateway.apply(leaky)

    [problem] = refused.value.problems
    assert "credentials can only be used in a request node" in problem.message


async def test_a_literal_secret_header_gets_a_warning(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    literal = """
key: literal
nodes:
  - key: call
    type: request
    config: {url: "https://api.example.com/x", headers: [{name: X-Api-Key, value: abc123}]}
"""
    await gateway.apply(literal)

    [warning] = [r for r in caplog.records if "in clear" in r.getMessage()]
    assert "nodes[call].config.headers.X-Api-Key" in warning.getMessage()
    assert "{{$credentials.NAME}}" in warning.getMessage()


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"name": "no spaces", "type": "bearer", "secret": "x"}, "name"),
        ({"name": "crm", "type": "oauth", "secret": "x"}, "type"),
        ({"name": "crm", "type": "bearer", "secret": ""}, "secret"),
        ({"name": "crm", "type": "basic", "secret": "no-colon"}, "secret"),
    ],
)
async def test_bad_credentials_are_refused(
    gateway: Gateway, variables: dict[str, Any], field: str
) -> None:
    problem = await error(gateway, SET, **variables)
    assert problem["extensions"]["code"] == "BAD_USER_INPUT"
    assert problem["extensions"]["field"] == field


def cli(database_url: str, *args: str, stdin: str = "", key: str = TEST_SECRET_KEY) -> Any:
    env = {"GATEWAY_DATABASE_URL": database_url, "GATEWAY_CONFIG": "/nonexistent"}
    return subprocess.run(
        [GATEWAY_BIN, *args],
        input=stdin,
        env={"PATH": "/usr/bin:/bin", **env, "GATEWAY_SECRET_KEY": key},
        capture_output=True,
        text=True,
        timeout=30,
    )


async def test_the_cli_sets_lists_and_deletes(gateway: Gateway) -> None:
    url = gateway.settings.database_url
    set_ = cli(url, "credentials", "set", "crm", "--type", "bearer", stdin=TOKEN + "\n")
    listed = cli(url, "credentials", "list")
    missing = cli(url, "credentials", "delete", "nope")

    assert set_.returncode == 0, set_.stderr
    assert listed.stdout.split()[:2] == ["crm", "bearer"] and TOKEN not in listed.stdout
    assert missing.returncode == 1 and "no credential named 'nope'" in missing.stderr
    assert cli(url, "credentials", "delete", "crm").returncode == 0
    assert cli(url, "credentials", "list").stdout == ""


SIGNED = """
key: signed
sync: true
trigger: {signature: {preset: github, secret: hook-secret}}
nodes:
  - key: call
    type: request
    config: {url: "%(url)s", headers: [{name: Authorization, value: "Bearer {{$credentials.crm}}"}]}
  - {key: reply, type: response, config: {statusCode: 200, body: {ok: true}}}
"""


async def test_rekey_reencrypts_every_stored_secret(
    settings_factory: SettingsFactory, downstream: TestServer
) -> None:
    new_key = "another-test-secret-key-0123456789-abcdefghij"
    settings = settings_factory(outbound_allow=("127.0.0.0/8",))
    async with running_gateway(settings) as before:
        await data(before, SET, name="crm", type="bearer", secret=TOKEN)
        await before.apply(SIGNED % {"url": downstream.url("/x")})
    url = settings.database_url

    wrong = cli(url, "rekey", stdin="not-the-old-key-but-long-enough-0123456789\n", key=new_key)
    rekeyed = cli(url, "rekey", stdin=TEST_SECRET_KEY + "\n", key=new_key)

    body = b'{"a": 1}'
    async with running_gateway(
        settings_factory(outbound_allow=("127.0.0.0/8",), secret_key=new_key)
    ) as after:
        answer = await after.post(
            "signed",
            content=body,
            headers={"content-type": "application/json", **github("hook-secret", body)},
        )
    assert wrong.returncode == 1 and "cannot be decrypted" in wrong.stderr
    assert rekeyed.returncode == 0, rekeyed.stderr
    assert "3 secrets re-encrypted" in rekeyed.stderr  # credential, trigger, version
    assert answer.status_code == 200, answer.text
    assert downstream.received[-1].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.postgres_only  # pg_dump of the database
async def test_pg_dump_holds_no_credential(gateway: Gateway, downstream: TestServer) -> None:
    await data(gateway, SET, name="crm", type="bearer", secret=TOKEN)
    await gateway.apply(CALLER % {"url": downstream.url("/orders")})
    assert (await gateway.post("caller", json={"id": "o-1"})).status_code == 200
    await gateway.drain()

    url = gateway.settings.database_url.replace("postgres://", "postgresql://", 1)
    dump = subprocess.run(["pg_dump", url], capture_output=True, text=True, timeout=60)

    assert dump.returncode == 0, dump.stderr
    assert "CREATE TABLE public.credentials" in dump.stdout
    assert downstream.received[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in dump.stdout
