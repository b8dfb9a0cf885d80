"""`/graphql`: bearer-token check and body limit in front of Strawberry's ASGI view.

Nothing is parsed for a caller without a valid token: the answer is 401 with
`WWW-Authenticate: Bearer` and a GraphQL-shaped error (`UNAUTHENTICATED`). Introspection
(and with it GraphiQL's page, served by gateway/console) is on in dev mode, or as
`GATEWAY_INTROSPECTION` says.

GraphQL over HTTP (docs/api.md, Transport): a POST whose body is not declared
`application/json` is refused with 415 before anything else, so no HTML form or other
"simple" cross-site request can run an operation; a client that accepts
`application/graphql-response+json` gets it, with 400 for a request that could not be
executed (not JSON, not GraphQL, invalid) and 200 once execution started.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import timedelta
from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from gateway.api import budget
from gateway.api.cache import Answer, AnswerCache
from gateway.api.context import Connection, Context
from gateway.api.errors import (
    SERVICE_UNAVAILABLE,
    TOO_LARGE,
    UNAUTHENTICATED,
    UNSUPPORTED_MEDIA_TYPE,
    coded,
    is_request_error,
)
from gateway.api.limits import CONNECTION_INIT_WAIT, MAX_BODY, MAX_SUBSCRIPTIONS
from gateway.api.relations import RelationCache
from gateway.api.schema import build_schema
from gateway.core.errors import StoreUnavailable
from gateway.service.runtime import Runtime
from gateway.service.tokens import AdminTokens


def _error(status: int, code: str, message: str, headers: dict[str, str]) -> Response:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


UNAUTHORIZED_HEADERS = {"www-authenticate": 'Bearer realm="gateway"'}
GRAPHQL_RESPONSE = "application/graphql-response+json"
GRAPHQL_RESPONSE_TYPE = b"application/graphql-response+json; charset=utf-8"


def _media_type(value: str) -> str:
    return value.partition(";")[0].strip().lower()


def json_body(request: Request) -> bool:
    """Whether a POST declares the only body type GraphQL over HTTP requires."""
    return _media_type(request.headers.get("content-type", "")) == "application/json"


def _quality(item: str) -> float:
    for param in item.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def wants_graphql_response(request: Request) -> bool:
    """The client accepts `application/graphql-response+json` at least as much as
    `application/json` (no Accept header, or only wildcards, means the legacy JSON)."""
    weights: dict[str, float] = {}
    for item in request.headers.get("accept", "").split(","):
        kind = _media_type(item)
        if kind in (GRAPHQL_RESPONSE, "application/json"):
            weights[kind] = max(weights.get(kind, 0.0), _quality(item))
    ours = weights.get(GRAPHQL_RESPONSE, 0.0)
    return ours > 0 and ours >= weights.get("application/json", 0.0)


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class _TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages go in text frames: the view's JSON is bytes (orjson),
    which Strawberry would send as binary frames, and browser clients drop those."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class _View(GraphQL[Context, None]):
    """Strawberry's view. Over WebSocket it speaks graphql-transport-ws only, to pages of
    the same origin (or clients that are not browsers), authenticated by the
    `connection_init` payload; a refused token closes the socket with 4403."""

    websocket_adapter_class = _TextFrames

    def __init__(self, runtime: Runtime, ide: bool, tokens: AdminTokens) -> None:
        super().__init__(
            build_schema(introspection=ide),
            graphql_ide=None,  # GraphiQL's page ships in the package: gateway/console
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=CONNECTION_INIT_WAIT),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS,
        )
        self.runtime = runtime
        self.relations = RelationCache()
        self.tokens = tokens

    async def get_context(self, request: Any, response: Any) -> Context:
        if isinstance(response, WebSocket):
            return Context(
                self.runtime, self.relations, connection=Connection(response, self.tokens)
            )
        budget.start(self.runtime.settings.graphql_max_answer)  # for all this request runs
        return Context(self.runtime, self.relations)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        connection = context.connection
        assert connection is not None
        connection.take(context.connection_params)
        if not await connection.accepted():
            raise ConnectionRejectionError
        return cast(UnsetType, UNSET)

    def encode_json(self, data: object) -> str | bytes:
        """orjson (a page of workflows is large); the standard encoder for what orjson
        refuses, such as an integer beyond 64 bits in a user's node config."""
        try:
            return orjson.dumps(data)
        except orjson.JSONEncodeError:
            return super().encode_json(data)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Every error gets its code, and the unexpected ones are masked, here: the last
        step every result passes, whichever stage (parse, validation, execution) failed."""
        request_error = bool(result.errors) and all(map(is_request_error, result.errors or []))
        spent = budget.current()
        if spent is not None and spent.exceeded:  # one error, and none of the partial data
            result.data, result.errors = None, [spent.refusal()]
        if result.errors:
            result.errors = [coded(error) for error in result.errors]
        answer = await super().process_result(request, result)
        if request_error and result.data is None:
            answer.pop("data", None)  # nothing was executed: no `data` entry (GraphQL spec)
        return answer


class _TooLarge(Exception):
    pass


def _executed(body: bytes) -> bool:
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return True
    return not isinstance(answer, dict) or "data" in answer


def _graphql_response(send: Send) -> Send:
    """`send` for a client that accepts `application/graphql-response+json`: that type,
    and 400 for an answer without `data` (the request was not executed) that would have
    been 200. The head is held back until the body (sent whole) is known."""
    head: dict[str, Any] = {}

    async def converted(message: Message) -> None:
        if message["type"] == "http.response.start":
            head.update(message)
            return
        if head and message["type"] == "http.response.body":
            status, body = head["status"], message.get("body", b"")
            headers = [(k, v) for k, v in head.get("headers", []) if k.lower() != b"content-type"]
            if status == 200 and not _executed(body):
                status = 400
            start = {
                **head,
                "status": status,
                "headers": [*headers, (b"content-type", GRAPHQL_RESPONSE_TYPE)],
            }
            head.clear()
            await send(start)
        await send(message)

    return converted


async def _read(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


class GraphQLEndpoint:
    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self.ide = settings.dev if settings.introspection is None else settings.introspection
        self.tokens = AdminTokens(settings)
        self.view = _View(runtime, self.ide, self.tokens)
        registry = runtime.registry
        self.cache = AnswerCache(lambda: registry.generation)

    async def start(self) -> None:
        """Check that a token is configured (ConfigError otherwise, outside dev mode)."""
        await self.tokens.start()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.view(scope, receive, send)  # authenticated by its connection_init
            return
        request = Request(scope)
        if request.method == "POST" and not json_body(request):
            message = "a GraphQL request is a POST with Content-Type: application/json"
            await _error(415, UNSUPPORTED_MEDIA_TYPE, message, {})(scope, receive, send)
            return
        if wants_graphql_response(request):
            send = _graphql_response(send)
        refusal = await self._refusal(request)
        body = b""
        if refusal is None:
            refusal, body = await self._body(request, receive)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self._answer(scope, body, _replay(body, receive), send)

    async def _answer(
        self, scope: MutableMapping[str, Any], body: bytes, receive: Receive, send: Send
    ) -> None:
        """From the cache when it holds the answer, else from the view (kept if cacheable)."""
        if scope["method"] != "POST" or not self.cache.cacheable(body):
            await self.view(scope, receive, send)
            return
        cached = self.cache.get(body)
        if cached is not None:
            await send(
                {"type": "http.response.start", "status": cached.status, "headers": cached.headers}
            )
            await send({"type": "http.response.body", "body": cached.body})
            return
        generation = self.cache.generation()
        captured: dict[str, Any] = {"body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        await self.view(scope, receive, capture)
        if "status" in captured:
            answer = Answer(generation, captured["status"], captured["headers"], captured["body"])
            self.cache.put(body, answer)

    async def _refusal(self, request: Request) -> Response | None:
        token = bearer(request)
        try:
            if token is not None and await self.tokens.accepts(token):
                return None
        except StoreUnavailable as exc:
            headers = {"retry-after": str(exc.retry_after)}
            return _error(503, SERVICE_UNAVAILABLE, "the database is unavailable", headers)
        message = "a valid admin token is required: Authorization: Bearer <token>"
        return _error(401, UNAUTHENTICATED, message, UNAUTHORIZED_HEADERS)

    async def _body(self, request: Request, receive: Receive) -> tuple[Response | None, bytes]:
        too_large = _error(413, TOO_LARGE, f"the request is over {MAX_BODY} bytes", {})
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return too_large, b""
        try:
            body = await _read(receive, MAX_BODY)
        except _TooLarge:
            return too_large, b""
        return None, body
