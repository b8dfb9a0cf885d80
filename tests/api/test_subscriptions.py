"""`Subscription.executionChanged` and `executionsChanged` over graphql-transport-ws, against
a real `gateway serve` with a real WebSocket client: embedded on SQLite, and on PostgreSQL +
Redis with a subscriber on one server, the call on another and a `gateway worker` running
it."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin, Subprotocol

from gateway.api.limits import MAX_BODY, MAX_SUBSCRIPTIONS
from tests.api.client import post
from tests.processes import Server, serve, start_worker, stop
from tests.support import GATEWAY_BIN, TEST_ADMIN_TOKEN, Gateway

PAYMENTS = "/api/webhook:trigger/example-payment-events-key-0001"
GITHUB = "/api/webhook:trigger/example-github-router-key-0001"
PING = {"x-github-event": "ping"}
AUTH = {"authorization": "Basic " + base64.b64encode(b"payments:dev-only-password").decode()}
PAYMENT = {"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"amount": 5}}}
CHANGED = """
subscription ($workflowId: ID) {
  executionChanged(workflowId: $workflowId) {
    id status finishedAt workflow { key } jobs { nodeKey status }
  }
}"""
BATCHED = """
subscription ($workflowId: ID) {
  executionsChanged(workflowId: $workflowId) { id status finishedAt workflow { key } }
}"""
CREATE_TOKEN = 'mutation { createApiToken(name: "console") { token apiToken { id } } }'
PROTOCOLS = [Subprotocol("graphql-transport-ws")]
_ids = itertools.count(1)


class Subscriber:
    """A graphql-transport-ws client on one socket."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def subscribe(self, workflow_id: str | None = None, query: str = CHANGED) -> str:
        operation = str(next(_ids))
        payload = {"query": query, "variables": {"workflowId": workflow_id}}
        await self.socket.send(
            json.dumps({"id": operation, "type": "subscribe", "payload": payload})
        )
        return operation

    async def receive(self, timeout: float = 20) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.socket.recv()
                assert isinstance(frame, str), "graphql-transport-ws messages are text frames"
                message = json.loads(frame)
                if message["type"] == "ping":
                    await self.socket.send(json.dumps({"type": "pong"}))
                    continue
                return dict(message)

    async def changed(self, operation: str) -> dict[str, Any]:
        message = await self.receive()
        assert message["type"] == "next" and message["id"] == operation, message
        assert "errors" not in message["payload"], message
        return dict(message["payload"]["data"]["executionChanged"])

    async def batch(self, operation: str) -> list[dict[str, Any]]:
        """The next message of an `executionsChanged` subscription: never an empty list."""
        message = await self.receive()
        assert message["type"] == "next" and message["id"] == operation, message
        assert "errors" not in message["payload"], message
        executions = list(message["payload"]["data"]["executionsChanged"])
        assert executions, message
        return executions


@asynccontextmanager
async def subscriber(server: Server, token: str = TEST_ADMIN_TOKEN) -> AsyncIterator[Subscriber]:
    url = server.base_url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=PROTOCOLS) as socket:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await socket.send(json.dumps(init))
        client = Subscriber(socket)
        assert (await client.receive())["type"] == "connection_ack"
        yield client


async def graphql(server: Server, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        answer = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {TEST_ADMIN_TOKEN}"},
        )
    body = answer.json()
    assert "errors" not in body, body
    return dict(body["data"])


async def subscriptions_open(server: Server, count: int) -> None:
    """Until the server says `count` subscriptions are open (each is then listening)."""
    line = f"gateway_subscriptions {float(count)}"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        async with asyncio.timeout(20):
            while line not in (await client.get("/metrics")).text.splitlines():
                await asyncio.sleep(0.02)  # polling the server's own count, not a guess


async def workflow_id(server: Server, key: str) -> str:
    data = await graphql(server, "query ($key: String) { workflow(key: $key) { id } }", key=key)
    return str(data["workflow"]["id"])


async def call(server: Server, path: str, body: dict[str, Any], **headers: str) -> str:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        answer = await client.post(path, json=body, headers=headers)
    assert answer.status_code < 300, answer.text
    return answer.headers["x-execution-id"]


async def until_finished(
    client: Subscriber, operation: str, execution_id: str
) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["finishedAt"] is None:
        changed = await client.changed(operation)
        assert changed["id"] == execution_id
        seen.append(changed)
    return seen


@pytest.mark.sqlite_only
@pytest.mark.timeout(60)
async def test_a_call_is_seen_created_and_finished(database_url: str, tmp_path: Path) -> None:
    async with serve(database_url, tmp_path) as server, subscriber(server) as client:
        # the client offers permessage-deflate (websockets' default); the server declines it
        assert client.socket.request is not None and client.socket.response is not None
        assert "permessage-deflate" in client.socket.request.headers["sec-websocket-extensions"]
        assert "sec-websocket-extensions" not in client.socket.response.headers
        operation = await client.subscribe()
        await subscriptions_open(server, 1)

        execution_id = await call(server, PAYMENTS, PAYMENT, **AUTH)
        seen = await until_finished(client, operation, execution_id)

    last = seen[-1]
    assert last["status"] == "RESOLVED"
    assert last["workflow"] == {"key": "payment-events"}
    assert [job["nodeKey"] for job in last["jobs"]] == ["kind", "positive-amount", "paid"]
    order = ["QUEUED", "STARTED", "RESOLVED"]
    assert [order.index(c["status"]) for c in seen] == sorted(
        order.index(c["status"]) for c in seen
    )


@pytest.mark.sqlite_only
@pytest.mark.timeout(60)
async def test_created_then_canceled_and_only_the_workflow_asked_for(
    database_url: str, tmp_path: Path
) -> None:
    # No executor task: an accepted call stays QUEUED until it is canceled.
    async with serve(database_url, tmp_path, GATEWAY_EXECUTOR_CONCURRENCY="0") as server:
        payments = await workflow_id(server, "payment-events")
        github = await workflow_id(server, "github-router")
        async with subscriber(server) as client:
            only_github = await client.subscribe(github)
            only_payments = await client.subscribe(payments)
            await subscriptions_open(server, 2)

            execution_id = await call(server, PAYMENTS, PAYMENT, **AUTH)
            created = await client.changed(only_payments)
            assert (created["id"], created["status"]) == (execution_id, "QUEUED")
            cancel = "mutation ($id: ID!) { cancelExecution(id: $id) { id } }"
            await graphql(server, cancel, id=execution_id)
            canceled = await client.changed(only_payments)
            assert (canceled["id"], canceled["status"]) == (execution_id, "CANCELED")

            # The GitHub router is sync: its one change is its record, already finished; the
            # first message of its subscription is that one, not a payment's.
            github_id = await call(server, GITHUB, {"zen": "z"}, **PING)
            first = await client.changed(only_github)
            assert (first["id"], first["status"]) == (github_id, "RESOLVED")


@pytest.mark.sqlite_only
@pytest.mark.timeout(60)
async def test_executions_changed_together_arrive_as_lists(
    database_url: str, tmp_path: Path
) -> None:
    count = 20
    async with serve(database_url, tmp_path) as server, subscriber(server) as client:
        github = await workflow_id(server, "github-router")
        of_github = await client.subscribe(github, query=BATCHED)
        of_all = await client.subscribe(query=BATCHED)
        await subscriptions_open(server, 2)

        # Sync calls at once: each is one change, its finished record. The server reads
        # changes at most every 0.25 s, so those of one read come in one message.
        sent = await asyncio.gather(
            *(call(server, GITHUB, {"zen": str(n)}, **PING) for n in range(count))
        )
        payments = await call(server, PAYMENTS, PAYMENT, **AUTH)
        got: dict[str, list[list[dict[str, Any]]]] = {of_github: [], of_all: []}

        def seen(operation: str) -> set[str]:
            return {each["id"] for batch in got[operation] for each in batch}

        while not set(sent) <= seen(of_github) or not {*sent, payments} <= seen(of_all):
            message = await client.receive()
            assert message["type"] == "next" and "errors" not in message["payload"], message
            got[message["id"]].append(message["payload"]["data"]["executionsChanged"])

    github_batches = [batch for batch in got[of_github] if batch]
    assert len(github_batches) == len(got[of_github]), "no message is an empty list"
    ids = [each["id"] for batch in github_batches for each in batch]
    assert sorted(ids) == sorted(sent), "each execution once, only the workflow asked for"
    assert len(github_batches) < count
    assert {each["status"] for batch in github_batches for each in batch} == {"RESOLVED"}
    assert {each["workflow"]["key"] for batch in github_batches for each in batch} == {
        "github-router"
    }


@pytest.mark.sqlite_only
@pytest.mark.timeout(60)
async def test_a_refused_token_closes_the_socket_with_4403(
    database_url: str, tmp_path: Path
) -> None:
    async with serve(database_url, tmp_path) as server:
        url = server.base_url.replace("http://", "ws://") + "/graphql"
        for payload in ({"authorization": "Bearer wrong"}, {}, {"authorization": TEST_ADMIN_TOKEN}):
            async with connect(url, subprotocols=PROTOCOLS) as socket:
                await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
                with pytest.raises(ConnectionClosed) as closed:
                    await socket.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403, payload

        # A page of another origin cannot open the socket at all (the handshake gets 403).
        with pytest.raises(InvalidStatus) as refused:
            async with connect(
                url, origin=Origin("http://elsewhere.example"), subprotocols=PROTOCOLS
            ):
                pass
        assert refused.value.response.status_code == 403

        # A subscribe before an accepted connection_init is refused too (4401).
        async with connect(url, subprotocols=PROTOCOLS) as socket:
            await Subscriber(socket).subscribe()
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


@pytest.mark.sqlite_only
@pytest.mark.timeout(60)
@pytest.mark.parametrize("query", [CHANGED, BATCHED], ids=["one-by-one", "lists"])
async def test_a_revoked_token_closes_its_open_subscriptions(
    database_url: str, tmp_path: Path, query: str
) -> None:
    async with serve(database_url, tmp_path) as server:
        made = (await graphql(server, CREATE_TOKEN))["createApiToken"]
        async with subscriber(server, made["token"]) as client:
            await client.subscribe(query=query)
            await subscriptions_open(server, 1)

            revoke = "mutation ($id: ID!) { revokeApiToken(id: $id) }"
            await graphql(server, revoke, id=made["apiToken"]["id"])

            with pytest.raises(ConnectionClosed) as closed:
                await client.receive()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        await subscriptions_open(server, 0)


@pytest.mark.sqlite_only
@pytest.mark.timeout(60)
async def test_subscriptions_per_connection_are_bounded(database_url: str, tmp_path: Path) -> None:
    async with serve(database_url, tmp_path) as server, subscriber(server) as client:
        operations = [await client.subscribe() for _ in range(MAX_SUBSCRIPTIONS)]
        await subscriptions_open(server, MAX_SUBSCRIPTIONS)

        refused = await client.subscribe()
        message = await client.receive()
        assert (message["type"], message["id"]) == ("error", refused)
        assert "limit" in message["payload"][0]["message"]

        # Ending one makes room for another; the others still get every change.
        await client.socket.send(json.dumps({"id": operations[0], "type": "complete"}))
        await subscriptions_open(server, MAX_SUBSCRIPTIONS - 1)
        again = await client.subscribe()
        await subscriptions_open(server, MAX_SUBSCRIPTIONS)
        execution_id = await call(server, GITHUB, {"zen": "z"}, **PING)
        got: dict[str, str] = {}
        while len(got) < MAX_SUBSCRIPTIONS:
            message = await client.receive()
            assert message["type"] == "next", message
            got[message["id"]] = message["payload"]["data"]["executionChanged"]["id"]
        assert set(got) == {*operations[1:], again}
        assert set(got.values()) == {execution_id}

        # A message over the request limit closes the socket (1009, message too big) once
        # its frame's header gives its length. Only the header is sent (text, masked, a
        # 64-bit length): with the payload still on its way the server's close would
        # reset the connection, and the close frame could be lost.
        length = (MAX_BODY + 1).to_bytes(8, "big")
        client.socket.transport.write(bytes([0x81, 0x80 | 127]) + length + bytes(4))
        with pytest.raises(ConnectionClosed) as closed:
            await client.receive()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


@pytest.mark.sqlite_only
@pytest.mark.timeout(60)
async def test_fifty_subscriptions_of_one_workflow_each_get_every_change(
    database_url: str, tmp_path: Path
) -> None:
    sockets = 5  # of MAX_SUBSCRIPTIONS operations each
    async with serve(database_url, tmp_path) as server, AsyncExitStack() as stack:
        github = await workflow_id(server, "github-router")
        clients = [await stack.enter_async_context(subscriber(server)) for _ in range(sockets)]
        operations = {
            client: {await client.subscribe(github) for _ in range(MAX_SUBSCRIPTIONS)}
            for client in clients
        }
        await subscriptions_open(server, sockets * MAX_SUBSCRIPTIONS)

        # The GitHub router is sync: each call is one change, its finished record.
        calls = [await call(server, GITHUB, {"zen": str(n)}, **PING) for n in range(3)]
        for client, mine in operations.items():
            got: dict[str, list[str]] = {operation: [] for operation in mine}
            while any(len(ids) < len(calls) for ids in got.values()):
                message = await client.receive()
                assert message["type"] == "next" and message["id"] in mine, message
                got[message["id"]].append(message["payload"]["data"]["executionChanged"]["id"])
            assert all(sorted(ids) == sorted(calls) for ids in got.values()), got


@pytest.mark.postgres_only
@pytest.mark.timeout(120)
async def test_a_worker_run_reaches_a_subscriber_on_another_server(
    database_url: str, tmp_path: Path, redis_url: str
) -> None:
    env = {
        "GATEWAY_REDIS_URL": redis_url,
        "GATEWAY_REDIS_QUEUE": f"arq:test:{uuid.uuid4().hex}",
        "GATEWAY_REDIS_PREFIX": f"gateway-test-{uuid.uuid4().hex}",
    }
    async with (
        serve(database_url, tmp_path, **env) as server_a,
        serve(database_url, tmp_path, **env) as server_b,
    ):
        worker = await start_worker(database_url, tmp_path, **env)
        try:
            async with subscriber(server_a) as client, subscriber(server_a) as batched:
                payments = await workflow_id(server_a, "payment-events")
                operation = await client.subscribe(payments)
                in_lists = await batched.subscribe(payments, query=BATCHED)
                await subscriptions_open(server_a, 2)

                execution_id = await call(server_b, PAYMENTS, PAYMENT, **AUTH)
                seen = await until_finished(client, operation, execution_id)
                listed = await batched.batch(in_lists)
                while listed[-1]["finishedAt"] is None:
                    listed += await batched.batch(in_lists)
        finally:
            code = await stop(worker)
        assert code == 0, "".join(worker.log)

    assert seen[-1]["status"] == "RESOLVED"
    assert len(seen[-1]["jobs"]) == 3
    assert {each["id"] for each in listed} == {execution_id}
    assert listed[-1]["status"] == "RESOLVED"


@pytest.mark.postgres_only
@pytest.mark.timeout(120)
async def test_a_token_revoked_by_the_cli_closes_subscriptions_on_every_server(
    database_url: str, tmp_path: Path, redis_url: str
) -> None:
    env = {"GATEWAY_REDIS_URL": redis_url, "GATEWAY_REDIS_PREFIX": f"test-{uuid.uuid4().hex}"}
    async with (
        serve(database_url, tmp_path, **env) as server_a,
        serve(database_url, tmp_path, **env) as server_b,
    ):
        made = (await graphql(server_a, CREATE_TOKEN))["createApiToken"]
        async with (
            subscriber(server_a, made["token"]) as on_a,
            subscriber(server_b, made["token"]) as on_b,
        ):
            await on_a.subscribe()
            await on_b.subscribe()
            await subscriptions_open(server_a, 1)
            await subscriptions_open(server_b, 1)

            revoke = [GATEWAY_BIN, "token", "revoke", str(made["apiToken"]["id"])]
            process = await asyncio.create_subprocess_exec(
                *revoke,
                cwd=tmp_path,
                env={
                    **os.environ,
                    **env,
                    "GATEWAY_DATABASE_URL": database_url,
                    "GATEWAY_CONFIG": "/nonexistent/gateway.toml",
                },
            )
            assert await process.wait() == 0

            for client in (on_a, on_b):  # well before the 30 s check
                with pytest.raises(ConnectionClosed) as closed:
                    await client.receive(timeout=15)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


@pytest.mark.sqlite_only
@pytest.mark.timeout(60)
async def test_errors_over_the_socket_carry_their_codes(database_url: str, tmp_path: Path) -> None:
    async with serve(database_url, tmp_path) as server, subscriber(server) as client:
        operation = await client.subscribe("not-a-number")
        message = await client.receive()
        assert await client.receive() == {"id": operation, "type": "complete"}
        unknown = await client.subscribe(query="subscription { executionChanged { nope } }")
        invalid = await client.receive()
        batched = await client.subscribe("not-a-number", query=BATCHED)
        batched_message = await client.receive()

    assert message["id"] == operation and message["type"] in ("next", "error"), message
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "workflowId" in errors[0]["message"]
    assert (invalid["id"], invalid["type"]) == (unknown, "error")
    assert invalid["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert batched_message["id"] == batched and batched_message["type"] in ("next", "error")
    payload = batched_message["payload"]
    batched_errors = payload["errors"] if batched_message["type"] == "next" else payload
    assert batched_errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_subscription_over_http_is_refused_before_it_runs(gateway: Gateway) -> None:
    response = await post(gateway, "subscription { executionChanged { id } }")

    assert response.status_code == 400
    assert "subscriptions are not allowed" in response.text


CAPTURED = """
subscription ($id: ID!, $after: ID) {
  capturedCalls(captureId: $id, after: $after) { id method body answerStatus }
}"""
OPEN_CAPTURE = """
mutation { openCapture(workflowKey: "payment-events", maxCalls: 3) { id } }"""


@pytest.mark.sqlite_only
@pytest.mark.timeout(60)
async def test_a_capture_streams_its_calls_then_completes_when_full(
    database_url: str, tmp_path: Path
) -> None:
    async with serve(database_url, tmp_path) as server, subscriber(server) as client:
        capture = (await graphql(server, OPEN_CAPTURE))["openCapture"]["id"]
        await call(server, PAYMENTS, {**PAYMENT, "id": "evt_before"}, **AUTH)
        payload = {"query": CAPTURED, "variables": {"id": capture}}
        await client.socket.send(
            json.dumps({"id": "calls", "type": "subscribe", "payload": payload})
        )

        async def next_call() -> dict[str, Any]:
            message = await client.receive()
            assert message["type"] == "next" and message["id"] == "calls", message
            return dict(message["payload"]["data"]["capturedCalls"])

        first = await next_call()  # recorded before the subscription: sent at once
        assert json.loads(first["body"])["id"] == "evt_before"
        for event in ("evt_2", "evt_3"):
            await call(server, PAYMENTS, {**PAYMENT, "id": event}, **AUTH)
            got = await next_call()
            assert (json.loads(got["body"])["id"], got["method"]) == (event, "POST")
            assert int(got["id"]) > int(first["id"])
        # three calls of three: the capture is full, and the subscription completes
        assert await client.receive() == {"id": "calls", "type": "complete"}


@pytest.mark.sqlite_only
@pytest.mark.timeout(60)
async def test_closing_a_capture_completes_its_subscription(
    database_url: str, tmp_path: Path
) -> None:
    async with serve(database_url, tmp_path) as server, subscriber(server) as client:
        capture = (await graphql(server, OPEN_CAPTURE))["openCapture"]["id"]
        payload = {"query": CAPTURED, "variables": {"id": capture}}
        await client.socket.send(
            json.dumps({"id": "calls", "type": "subscribe", "payload": payload})
        )
        await call(server, PAYMENTS, {**PAYMENT, "id": "evt_1"}, **AUTH)
        message = await client.receive()
        assert message["type"] == "next", message  # the subscription is running
        closed = await graphql(server, f'mutation {{ closeCapture(id: "{capture}") {{ open }} }}')
        assert closed["closeCapture"]["open"] is False
        # woken by the close, not by the next check of the connection (seconds away)
        assert await client.receive() == {"id": "calls", "type": "complete"}


@pytest.mark.sqlite_only
@pytest.mark.timeout(60)
async def test_a_capture_that_expires_completes_its_subscription(
    database_url: str, tmp_path: Path
) -> None:
    opened = 'mutation { openCapture(workflowKey: "payment-events", seconds: 1) { id } }'
    async with serve(database_url, tmp_path) as server, subscriber(server) as client:
        capture = (await graphql(server, opened))["openCapture"]["id"]
        payload = {"query": CAPTURED, "variables": {"id": capture}}
        await client.socket.send(
            json.dumps({"id": "calls", "type": "subscribe", "payload": payload})
        )
        # at its expiry, not at the next check of the connection (30 s away)
        async with asyncio.timeout(15):
            assert await client.receive() == {"id": "calls", "type": "complete"}
