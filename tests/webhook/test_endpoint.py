"""`POST /api/webhook:trigger/{key}` through the real app: the answers, parsing and
templates of docs/webhooks.md, and the sync and async runs of docs/executions.md."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from tortoise import connections

from gateway.core.errors import ConfigError
from gateway.core.settings import Settings
from gateway.core.types import Scope
from gateway.engine.node import NodeType, Outcome
from gateway.nodes.registry import REGISTRY, register
from gateway.store.models import ExecutionRequest
from tests.support import Gateway, running_gateway

SettingsFactory = Callable[..., Settings]


class Wait(NodeType):
    """Waits until cancelled: stands in for a slow node, which no real node type is yet."""

    type_name = "test-wait"

    async def run(self, scope: Scope) -> Outcome:
        await asyncio.Event().wait()
        raise AssertionError("never set")


@pytest.fixture(scope="module", autouse=True)
def wait_node() -> Iterator[None]:
    """`test-wait` in the real node registry while this module runs, and only then."""
    added = Wait.type_name not in REGISTRY
    if added:
        register(Wait)
    yield
    if added:
        del REGISTRY[Wait.type_name]


async def refuse_writes(refuse: bool) -> None:
    """Make the real SQLite database refuse every write (or accept them again)."""
    await connections.get("default").execute_script(f"PRAGMA query_only = {int(refuse)}")


async def chunks(count: int, sent: list[bytes]) -> AsyncIterator[bytes]:
    """`count` chunks of 40 bytes, recording in `sent` each one the app asked for."""
    for _ in range(count):
        sent.append(b"x" * 40)
        yield sent[-1]


HOOK = """
key: hook
nodes:
  - key: check
    type: condition
    config: {calculation: {group: {type: and, calculations: [{calculator: equal, operands: ["{{$context.body.kind}}", a]}]}}}
  - {key: done, type: end, config: {endStatus: 1}}
"""

REPLY = """
key: reply
sync: true
trigger: {request: %(rules)s}
nodes:
  - {key: reply, type: response, config: {statusCode: 200, headers: %(headers)s, body: %(body)s}}
"""


def reply(body: str, headers: str = "[]", rules: str = "{}") -> str:
    """A sync workflow `reply` whose response node answers `body`; arguments are YAML text."""
    return REPLY % {"body": body, "headers": headers, "rules": rules}


SLOW = """
key: slow
sync: true
options: {timeout: 50}
nodes: [{key: wait, type: test-wait}]
"""
SYNC_NO_RESPONSE = """
key: quiet
sync: true
nodes: [{key: done, type: end, config: {endStatus: 1}}]
"""
SYNC_END_FAILED = """
key: failing
sync: true
nodes: [{key: stop, type: end, config: {endStatus: -1}}]
"""

# --- answers: routing, authentication, body limits and errors --------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_methods_other_than_post_get_405(gateway: Gateway, method: str) -> None:
    await gateway.apply(HOOK)
    response = await gateway.client.request(method, await gateway.url("hook"))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert await gateway.executions() == []


async def test_unknown_key_and_disabled_workflow_get_the_same_404(gateway: Gateway) -> None:
    await gateway.apply(HOOK.replace("key: hook", "key: hook\nenabled: false"))
    disabled = await gateway.post("hook", json={})
    unknown = await gateway.client.post("/api/webhook:trigger/no-such-key-0123456789ab", json={})
    assert (disabled.status_code, unknown.status_code) == (404, 404)
    assert disabled.content == unknown.content
    assert unknown.json()["error"] == "not_found"
    assert await gateway.executions() == []


GUARDED = """
key: guarded
trigger: {basicAuthentication: {username: stripe, password: "s3cret:pass"}}
"""


@pytest.mark.parametrize(
    "authorization",
    [
        None,  # no credentials
        "Basic c3RyaXBlMjpzM2NyZXQ6cGFzcw==",  # stripe2:s3cret:pass, wrong user
        "Basic c3RyaXBlOnMzY3JldA==",  # stripe:s3cret, wrong password (prefix of the right one)
        "Basic c3RyaXBlOg==",  # stripe:, empty password
        "Basic c3RyaXBl",  # "stripe" without a colon
        "Basic !!not-base64!!",  # malformed base64
        "Basic",  # scheme without credentials
        "Bearer c3RyaXBlOnMzY3JldDpwYXNz",  # right credentials under another scheme
    ],
)
async def test_basic_auth_refuses_bad_credentials(
    gateway: Gateway, authorization: str | None
) -> None:
    await gateway.apply(GUARDED)
    headers = {"authorization": authorization} if authorization else {}
    response = await gateway.post("guarded", headers=headers, json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="webhook"'
    assert await gateway.executions() == []


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic c3RyaXBlOnMzY3JldDpwYXNz",  # stripe:s3cret:pass (a colon in the password)
        "basic c3RyaXBlOnMzY3JldDpwYXNz",  # the scheme is case-insensitive
    ],
)
async def test_basic_auth_accepts_the_right_credentials(
    gateway: Gateway, authorization: str
) -> None:
    await gateway.apply(GUARDED)
    response = await gateway.post("guarded", headers={"authorization": authorization}, json={})
    assert (response.status_code, response.text) == (200, "ok")


async def test_a_remembered_pass_holds_only_for_the_same_header_and_password(
    gateway: Gateway,
) -> None:
    """A header that passed is matched again without the HMAC; a different header, or the
    same one after the password changed, is checked in full."""
    right = {"authorization": "Basic c3RyaXBlOnMzY3JldDpwYXNz"}  # stripe:s3cret:pass
    await gateway.apply(GUARDED)
    first = await gateway.post("guarded", headers=right, json={})
    again = await gateway.post("guarded", headers=right, json={})
    wrong = await gateway.post(
        "guarded", headers={"authorization": "Basic c3RyaXBlOnMzY3JldA=="}, json={}
    )
    await gateway.apply(GUARDED.replace("s3cret:pass", "n3w-secret"))
    after_change = await gateway.post("guarded", headers=right, json={})
    new = await gateway.post(
        "guarded", headers={"authorization": "Basic c3RyaXBlOm4zdy1zZWNyZXQ="}, json={}
    )

    assert [r.status_code for r in (first, again, wrong, after_change, new)] == [
        200,
        200,
        401,
        401,
        200,
    ]


async def test_body_declared_over_the_limit_is_refused_unread(
    settings_factory: SettingsFactory,
) -> None:
    sent: list[bytes] = []
    async with running_gateway(settings_factory(body_limit=100)) as gateway:
        await gateway.apply(HOOK)
        response = await gateway.post(
            "hook",
            headers={"content-length": "400", "content-type": "text/plain"},
            content=chunks(10, sent),
        )
        assert await gateway.executions() == []
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    assert sent == []


async def test_streamed_body_over_the_limit_is_refused_at_the_first_chunk_past_it(
    settings_factory: SettingsFactory,
) -> None:
    sent: list[bytes] = []
    async with running_gateway(settings_factory(body_limit=100)) as gateway:
        await gateway.apply(HOOK)
        response = await gateway.post(
            "hook", headers={"content-type": "text/plain"}, content=chunks(10, sent)
        )
        assert await gateway.executions() == []
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert len(sent) == 3  # 120 bytes: over 100, and the other 280 never read


async def test_body_exactly_at_the_limit_is_accepted(settings_factory: SettingsFactory) -> None:
    async with running_gateway(settings_factory(body_limit=100)) as gateway:
        await gateway.apply(HOOK)
        response = await gateway.post(
            "hook", headers={"content-type": "text/plain"}, content=b"x" * 100
        )
    assert response.status_code == 200


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("content_type", "content", "message"),
    [
        ("application/json", b'{"kind": ', "not valid JSON"),  # truncated JSON
        ("application/json", nested(6), "nested deeper than 5 levels"),  # just over the limit
        (
            "application/json",
            nested(100_000),
            "nested deeper than 5 levels",
        ),  # far deeper: still a 400, not a 500
        ("text/plain", b"caf\xe9", "not valid utf-8 text"),  # latin-1 bytes sent as UTF-8
        ("text/plain; charset=klingon", b"abc", "klingon"),  # a charset nobody knows
        ("application/x-www-form-urlencoded; charset=ascii", b"a=\xe9", "ascii"),  # bad form
    ],
)
async def test_unreadable_body_gets_400_naming_the_problem(
    settings_factory: SettingsFactory, content_type: str, content: bytes, message: str
) -> None:
    async with running_gateway(settings_factory(json_depth=5)) as gateway:
        await gateway.apply(HOOK)
        response = await gateway.post(
            "hook", headers={"content-type": content_type}, content=content
        )
        assert await gateway.executions() == []
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "invalid_body"
    assert message in response.json()["message"]


def test_json_depth_setting_over_1024_is_refused(settings_factory: SettingsFactory) -> None:
    # The parser cannot go deeper than 1024 levels: a larger setting would be a false promise.
    with pytest.raises(ConfigError, match="GATEWAY_JSON_DEPTH"):
        settings_factory(json_depth=2000)


async def test_json_at_the_parser_limit_is_a_clear_400(settings_factory: SettingsFactory) -> None:
    async with running_gateway(settings_factory(json_depth=1024)) as gateway:
        await gateway.apply(HOOK)
        response = await gateway.post(
            "hook", headers={"content-type": "application/json"}, content=nested(1500)
        )
    assert response.status_code == 400
    assert "nested deeper than 1024 levels" in response.json()["message"]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/octet-stream",  # raw bytes
        "image/png",  # a file upload
        "multipart/form-data; boundary=x",  # multipart forms are not read
    ],
)
async def test_unsupported_content_type_gets_415(gateway: Gateway, content_type: str) -> None:
    await gateway.apply(HOOK)
    response = await gateway.post("hook", headers={"content-type": content_type}, content=b"\x00")
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert await gateway.executions() == []


RULES = """
key: ruled
trigger:
  request:
    headers: [{key: X-Signature, required: true}, {key: x-count, type: integer}]
    query: [{key: page, type: integer}, {key: ok, type: boolean}]
    body: [{key: data.id, required: true}, {key: data.amount, type: number}]
"""


async def test_failing_parse_rules_are_listed_together_in_one_400(gateway: Gateway) -> None:
    await gateway.apply(RULES)
    response = await gateway.post(
        "ruled",
        params={"page": "two", "ok": "yes"},
        headers={"x-count": "many"},
        json={"data": {"amount": "lots"}},
    )
    assert response.status_code == 400
    problems = response.json()["details"]
    assert [(p["source"], p["key"]) for p in problems] == [
        ("headers", "x-signature"),
        ("headers", "x-count"),
        ("query", "page"),
        ("body", "data.id"),
        ("body", "data.amount"),
    ]
    assert [p["message"] for p in problems][:2] == ["required", "expected integer, got 'many'"]
    assert await gateway.executions() == []


# --- async calls -----------------------------------------------------------------------


async def test_async_call_is_answered_only_once_its_execution_is_stored(
    settings_factory: SettingsFactory,
) -> None:
    async with running_gateway(settings_factory(executor_concurrency=0)) as gateway:
        await gateway.apply(HOOK)
        response = await gateway.post("hook", json={"kind": "a"})
        row = await gateway.execution(response.headers["x-execution-id"])
    assert (response.status_code, response.text) == (200, "ok")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert (row["status"], row["jobs"]) == ("QUEUED", [])


async def test_async_execution_runs_in_the_background(gateway: Gateway) -> None:
    await gateway.apply(HOOK)
    response = await gateway.post("hook", json={"kind": "a"})
    await gateway.drain()
    row = await gateway.execution(response.headers["x-execution-id"])
    assert row["status"] == "RESOLVED"
    assert [(j["nodeKey"], j["status"]) for j in row["jobs"]] == [
        ("check", "RESOLVED"),
        ("done", "RESOLVED"),
    ]


CUSTOM_ANSWER = """
key: custom
trigger:
  response:
    statusCode: 202
    headers: [{name: X-Received, value: "id-{{$context.query.id}}"}]
    body: {received: "{{$context.body.id}}", source: "{{$context.headers.x-source}}"}
"""


async def test_async_call_gets_the_triggers_configured_answer(gateway: Gateway) -> None:
    await gateway.apply(CUSTOM_ANSWER)
    response = await gateway.post(
        "custom", params={"id": "q1"}, headers={"x-source": "crm"}, json={"id": 7}
    )
    assert response.status_code == 202
    assert response.headers["x-received"] == "id-q1"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"received": 7, "source": "crm"}
    row = await gateway.execution(response.headers["x-execution-id"])
    assert row["workflow"] == "custom"


@pytest.mark.sqlite_only  # PostgreSQL outages: tests/e2e/test_scale_out.py
async def test_async_call_gets_503_while_the_database_refuses_writes(gateway: Gateway) -> None:
    await gateway.apply(HOOK)
    url = await gateway.url("hook")
    await refuse_writes(True)
    refused = await gateway.client.post(url, json={"kind": "a"})
    await refuse_writes(False)
    accepted = await gateway.client.post(url, json={"kind": "a"})
    assert refused.status_code == 503
    assert refused.headers["retry-after"].isdigit()
    assert "x-execution-id" not in refused.headers
    assert accepted.status_code == 200
    assert [r["id"] for r in await gateway.executions()] == [accepted.headers["x-execution-id"]]


@pytest.mark.sqlite_only
async def test_a_sync_answer_does_not_depend_on_its_record_being_written(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    # The run earned the answer (its side effects happened): a failed record is logged,
    # not turned into an error the sender would retry.
    await gateway.apply(reply('"hi"'))
    url = await gateway.url("reply")
    await refuse_writes(True)
    unrecorded = await gateway.client.post(url)
    await refuse_writes(False)
    recorded = await gateway.post("reply")

    assert (unrecorded.status_code, unrecorded.text) == (200, "hi")
    assert (recorded.status_code, recorded.text) == (200, "hi")
    assert [r["id"] for r in await gateway.executions()] == [recorded.headers["x-execution-id"]]
    [logged] = [r for r in caplog.records if "record could not be written" in r.getMessage()]
    assert getattr(logged, "execution_id", None) == unrecorded.headers["x-execution-id"]


@pytest.mark.sqlite_only
async def test_with_record_first_a_sync_call_is_not_a_success_when_its_record_is_not_written(
    settings_factory: SettingsFactory,
) -> None:
    async with running_gateway(settings_factory(sync_record_first=True)) as gateway:
        await gateway.apply(reply('"hi"'))
        url = await gateway.url("reply")
        await refuse_writes(True)
        refused = await gateway.client.post(url)
        await refuse_writes(False)
        answered = await gateway.client.post(url)
        recorded = [r["id"] for r in await gateway.executions()]
    assert refused.status_code == 503
    assert refused.headers["retry-after"].isdigit()
    assert (answered.status_code, answered.text) == (200, "hi")
    assert recorded == [answered.headers["x-execution-id"]]


# --- sync calls ------------------------------------------------------------------------

ORDER = """
key: order
sync: true
nodes:
  - key: reply
    type: response
    config:
      statusCode: 201
      headers: [{name: X-Order, value: "order-{{$context.body.id}}"}]
      body: {id: "{{$context.body.id}}", ok: true}
"""


async def test_sync_response_node_decides_the_answer(gateway: Gateway) -> None:
    await gateway.apply(ORDER)
    response = await gateway.post("order", json={"id": 7})
    row = await gateway.execution(response.headers["x-execution-id"])
    assert response.status_code == 201
    assert response.headers["x-order"] == "order-7"
    assert response.json() == {"id": 7, "ok": True}
    assert (row["status"], row["responseStatus"]) == ("RESOLVED", 201)
    assert [(j["nodeKey"], j["status"]) for j in row["jobs"]] == [("reply", "RESOLVED")]


@pytest.mark.parametrize(
    ("body", "headers", "content_type", "content"),
    [
        ("{a: 1}", "[]", "application/json", b'{"a":1}'),  # an object is JSON
        ("[1, 2]", "[]", "application/json", b"[1,2]"),  # an array is JSON
        ("42", "[]", "application/json", b"42"),  # a number is JSON
        ("true", "[]", "application/json", b"true"),  # a boolean is JSON
        ("héllo", "[]", "text/plain; charset=utf-8", "héllo".encode()),  # a string is text
        # a configured content type wins
        ("<a/>", "[{name: Content-Type, value: application/xml}]", "application/xml", b"<a/>"),
        # also over a JSON value
        ("{a: 1}", "[{name: content-type, value: text/csv}]", "text/csv", b'{"a":1}'),
        ('"{{$context.body.id}}"', "[]", "application/json", b"7"),  # a number from a template
    ],
)
async def test_sync_answer_content_type(
    gateway: Gateway, body: str, headers: str, content_type: str, content: bytes
) -> None:
    await gateway.apply(reply(body, headers))
    response = await gateway.post("reply", json={"id": 7})
    assert response.headers["content-type"] == content_type
    assert response.content == content


async def test_sync_without_response_node_answers_its_status(gateway: Gateway) -> None:
    await gateway.apply(SYNC_NO_RESPONSE)
    response = await gateway.post("quiet")
    execution_id = response.headers["x-execution-id"]
    assert response.status_code == 200
    assert response.json() == {"executionId": execution_id, "status": "RESOLVED"}
    assert (await gateway.execution(execution_id))["status"] == "RESOLVED"


REJECT_ON_FALSE = """
key: failing
sync: true
nodes:
  - key: check
    type: condition
    config: {rejectOnFalse: true, calculation: {group: {type: and, calculations: [{calculator: equal, operands: ["{{$context.body.kind}}", a]}]}}}
  - {key: never, type: response, config: {body: never}}
"""
BAD_STATUS = """
key: failing
sync: true
nodes: [{key: reply, type: response, config: {statusCode: "{{$context.body.kind}}"}}]
"""


@pytest.mark.parametrize(
    ("document", "status"),
    [
        (REJECT_ON_FALSE, "FAILED"),  # a condition with rejectOnFalse comes out false
        (SYNC_END_FAILED, "FAILED"),  # an end node with endStatus -1
        (BAD_STATUS, "ERROR"),  # a response node fails: its status renders to "b"
    ],
    ids=["reject-on-false", "end-failed", "node-error"],
)
async def test_sync_ending_unresolved_without_a_response_gets_500(
    gateway: Gateway, document: str, status: str
) -> None:
    await gateway.apply(document)
    response = await gateway.post("failing", json={"kind": "b"})
    execution_id = response.headers["x-execution-id"]
    assert response.status_code == 500
    assert response.json() == {"executionId": execution_id, "status": status}
    assert (await gateway.execution(execution_id))["status"] == status


async def test_sync_timeout_gets_408_and_aborts_the_execution(gateway: Gateway) -> None:
    await gateway.apply(SLOW)
    response = await gateway.post("slow")
    row = await gateway.execution(response.headers["x-execution-id"])
    assert response.status_code == 408
    assert response.json()["status"] == "ABORTED"
    assert (row["status"], row["reason"]) == ("ABORTED", "timeout")
    assert [(j["nodeKey"], j["status"]) for j in row["jobs"]] == [("wait", "ABORTED")]


async def test_sync_timeout_defaults_to_the_setting(settings_factory: SettingsFactory) -> None:
    async with running_gateway(settings_factory(sync_timeout=50)) as gateway:
        await gateway.apply(SLOW.replace("options: {timeout: 50}", ""))
        response = await gateway.post("slow")
    assert response.status_code == 408


NO_CONTENT_ASYNC = """
key: empty
trigger: {response: {statusCode: 204}}
"""
NO_CONTENT_SYNC = """
key: empty
sync: true
nodes: [{key: reply, type: response, config: {statusCode: 204, body: done}}]
"""


@pytest.mark.parametrize(
    "document",
    [
        NO_CONTENT_ASYNC,  # the trigger answers 204, its body left at the default "ok"
        NO_CONTENT_SYNC,  # a response node answers 204 with a body
    ],
    ids=["async", "sync"],
)
async def test_204_answer_carries_no_body(gateway: Gateway, document: str) -> None:
    await gateway.apply(document)
    response = await gateway.post("empty", json={})
    assert response.status_code == 204
    # uvicorn's h11 raises on these bytes; httptools writes them into the next response.
    assert response.content == b""
    assert response.headers.get("content-length", "0") == "0"


@pytest.mark.parametrize(
    ("document", "key", "status"),
    [
        (HOOK, "hook", 200),  # async, accepted
        (reply('"hi"'), "reply", 200),  # sync, answered by a response node
        (SYNC_NO_RESPONSE, "quiet", 200),  # sync, resolved without a response node
        (SYNC_END_FAILED, "failing", 500),  # sync, failed
        (SLOW, "slow", 408),  # sync, timed out
    ],
    ids=["async", "sync-response", "sync-resolved", "sync-failed", "sync-timeout"],
)
async def test_every_execution_answer_names_its_stored_execution(
    gateway: Gateway, document: str, key: str, status: int
) -> None:
    await gateway.apply(document)
    response = await gateway.post(key, json={"kind": "a"})
    await gateway.drain()
    assert response.status_code == status
    rows = await gateway.executions(key)
    assert [r["id"] for r in rows] == [response.headers["x-execution-id"]]


# --- variables: what a workflow sees of the call ---------------------------------------


async def test_headers_are_exposed_but_secrets_neither_exposed_nor_stored(
    gateway: Gateway,
) -> None:
    # Lower-casing is checked in test_webhook_parsing: httpx lower-cases ASGI header names.
    await gateway.apply(reply('"{{$context.headers}}"'))
    secrets = {"Authorization": "Bearer t", "Cookie": "s=1", "Proxy-Authorization": "Basic eA=="}
    response = await gateway.post("reply", headers={"X-Custom-Name": "Value", **secrets})
    stored = await ExecutionRequest.get(execution_id=response.headers["x-execution-id"])
    assert response.json()["x-custom-name"] == "Value"
    assert not {"authorization", "cookie", "proxy-authorization"} & response.json().keys()
    assert stored.context["headers"] == response.json()


@pytest.mark.parametrize("name", ["authorization", "Cookie", "proxy-authorization"])
async def test_secret_header_named_by_a_parse_rule_is_exposed(gateway: Gateway, name: str) -> None:
    await gateway.apply(reply('"{{$context.headers}}"', rules=f"{{headers: [{{key: {name}}}]}}"))
    secrets = {"authorization": "Bearer t", "cookie": "s=1", "proxy-authorization": "p"}
    response = await gateway.post("reply", headers=secrets)
    exposed = {"authorization", "cookie", "proxy-authorization"} & response.json().keys()
    assert exposed == {name.lower()}
    assert response.json()[name.lower()] == secrets[name.lower()]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {}),  # no query string
        ("a[0][b]=1", {"a": [{"b": "1"}]}),  # docs/webhooks.md, Query string
        ("a[]=1&a[]=2", {"a": ["1", "2"]}),  # empty brackets append
        ("a=1&a=2", {"a": ["1", "2"]}),  # a repeated key is a list
        ("a[b][c]=d", {"a": {"b": {"c": "d"}}}),  # nested objects
        ("x=a+b&y=a%20b", {"x": "a b", "y": "a b"}),  # `+` and `%20` are spaces
        ("a=&b", {"a": "", "b": ""}),  # empty values
        ("a%5B0%5D=x", {"a": ["x"]}),  # encoded brackets nest too
    ],
)
async def test_query_follows_qs(gateway: Gateway, query: str, expected: dict[str, Any]) -> None:
    await gateway.apply(reply('{q: "{{$context.query}}"}'))
    response = await gateway.client.post(f"{await gateway.url('reply')}?{query}")
    assert response.json() == {"q": expected}


@pytest.mark.parametrize(
    ("content_type", "content", "expected"),
    [
        ("application/json", b'{"a": [1, {"b": null}]}', {"a": [1, {"b": None}]}),  # JSON
        ("application/vnd.api+json", b'{"data": {"id": "1"}}', {"data": {"id": "1"}}),  # +json
        (
            "application/x-www-form-urlencoded",
            b"a[b]=1&c[]=2&c[]=3&d=x+y",
            {"a": {"b": "1"}, "c": ["2", "3"], "d": "x y"},
        ),  # form with qs nesting
        ("text/plain", b"hello\nworld", "hello\nworld"),  # text as a string
        ("text/plain; charset=iso-8859-1", b"caf\xe9", "café"),  # text in its declared charset
        (None, b"", {}),  # no body at all
        ("application/json", b"", {}),  # an empty JSON body
    ],
)
async def test_body_is_parsed_by_content_type(
    gateway: Gateway, content_type: str | None, content: bytes, expected: Any
) -> None:
    await gateway.apply(reply('{b: "{{$context.body}}"}'))
    headers = {"content-type": content_type} if content_type else {}
    response = await gateway.post("reply", headers=headers, content=content)
    assert response.json() == {"b": expected}


async def test_raw_body_is_the_exact_text_sent(gateway: Gateway) -> None:
    await gateway.apply(reply('{raw: "{{$context.rawBody}}"}'))
    content = b'{ "a" :1,\n  "b": "\\u00e9" }'
    response = await gateway.post(
        "reply", headers={"content-type": "application/json"}, content=content
    )
    assert response.json() == {"raw": content.decode()}


@pytest.mark.parametrize(
    ("rules", "request_kwargs", "template", "expected"),
    [
        # NocoBase's body_$0
        (
            "{body: [{key: data.object.id, var: body_0}]}",
            {"json": {"data": {"object": {"id": "pi_1"}}}},
            '"{{$context.body.body_0}}"',
            "pi_1",
        ),
        # from a nested query value
        (
            "{query: [{key: 'filter[0].tag', var: tag}]}",
            {"params": {"filter[0][tag]": "x"}},
            '"{{$context.query.tag}}"',
            "x",
        ),
        # from a header
        (
            "{headers: [{key: X-Request-Id, var: requestId}]}",
            {"headers": {"x-request-id": "r1"}},
            '"{{$context.headers.requestId}}"',
            "r1",
        ),
        # the value is coerced first
        (
            "{query: [{key: page, type: integer, var: p}]}",
            {"params": {"page": "2"}},
            '"{{$context.query.p}}"',
            2,
        ),
    ],
)
async def test_var_places_the_value_at_source_var(
    gateway: Gateway, rules: str, request_kwargs: dict[str, Any], template: str, expected: Any
) -> None:
    await gateway.apply(reply(f"{{v: {template}}}", rules=rules))
    response = await gateway.post("reply", **request_kwargs)
    assert response.json() == {"v": expected}


@pytest.mark.parametrize(
    ("rules", "request_kwargs", "path", "expected"),
    [
        # query string to integer
        ("{query: [{key: page, type: integer}]}", {"params": {"page": "2"}}, "query.page", 2),
        # to number
        ("{query: [{key: ratio, type: number}]}", {"params": {"ratio": "1.5"}}, "query.ratio", 1.5),
        # to boolean
        (
            "{query: [{key: active, type: boolean}]}",
            {"params": {"active": "yes"}},
            "query.active",
            True,
        ),
        # a header, the rule's key written in capitals
        (
            "{headers: [{key: X-Count, type: integer}]}",
            {"headers": {"x-count": "7"}},
            "headers.x-count",
            7,
        ),
        # a header to boolean
        (
            "{headers: [{key: x-flag, type: boolean}]}",
            {"headers": {"x-flag": "false"}},
            "headers.x-flag",
            False,
        ),
        # form values are strings too
        ("{body: [{key: n, type: integer}]}", {"data": {"n": "3"}}, "body.n", 3),
        # a JSON number to string
        ("{body: [{key: n, type: string}]}", {"json": {"n": 5}}, "body.n", "5"),
    ],
)
async def test_type_coerces_values_the_workflow_sees(
    gateway: Gateway, rules: str, request_kwargs: dict[str, Any], path: str, expected: Any
) -> None:
    await gateway.apply(reply('{v: "{{$context.' + path + '}}"}', rules=rules))
    response = await gateway.post("reply", **request_kwargs)
    assert response.json() == {"v": expected}


BODY = {"id": 5, "ok": True, "items": [{"id": 1}, {"id": 2}], "a.b": "dotted", "k": "key"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('"{{$context.headers.x-request-id}}"', "r1"),  # `-` in a segment
        ('"{{$context.query.filter[0].tag}}"', "urgent"),  # brackets in a path
        ('"{{ $context.body.id }}"', 5),  # a single placeholder keeps its type
        ('"{{$context.body.ok}}"', True),  # booleans too
        ('"{{$context.body.items}}"', [{"id": 1}, {"id": 2}]),  # and structures
        ('"{{$context.body.items.id}}"', [1, 2]),  # a path through an array maps over it
        ("'{{$context.body[\"a.b\"]}}'", "dotted"),  # a quoted key
        ('"id={{$context.body.id}} ok={{$context.body.ok}}"', "id=5 ok=true"),  # mixed text
        ('"{{$context.body.missing.deeper}}"', None),  # a missing path is null
        ('"[{{$context.body.missing}}]"', "[]"),  # and empty in text
        ('{"{{$context.body.k}}": 1}', {"key": 1}),  # object keys are templates
        ('"{{$context.method}}"', "POST"),  # the request method
    ],
)
async def test_templates_render_context_values(
    gateway: Gateway, template: str, expected: Any
) -> None:
    await gateway.apply(reply(f"{{v: {template}}}"))
    response = await gateway.post(
        "reply", params={"filter[0][tag]": "urgent"}, headers={"x-request-id": "r1"}, json=BODY
    )
    assert response.json() == {"v": expected}


async def test_header_values_render_as_template_text(gateway: Gateway) -> None:
    headers = '[{name: x-ok, value: "{{$context.body.ok}}"}, {name: x-items, value: "{{$context.body.items}}"}]'
    await gateway.apply(reply('""', headers=headers))
    response = await gateway.post("reply", json=BODY)
    assert response.headers["x-ok"] == "true"  # JSON text, as in "ok={{$context.body.ok}}"
    assert response.headers["x-items"] == '[{"id":1},{"id":2}]'


async def test_a_trigger_key_longer_than_any_stored_one_is_a_404(gateway: Gateway) -> None:
    # Keys longer than the column cannot exist; looking one up must not fail.
    response = await gateway.client.post("/api/webhook:trigger/" + "k" * 5000, json={})

    assert response.status_code == 404
