"""`/graphql`: bearer-token check and body limit in front of Strawberry's ASGI view.

Nothing is parsed for a caller without a valid token: the answer is 401 with
`WWW-Authenticate: Bearer` and a GraphQL-shaped error (`UNAUTHENTICATED`). Introspection
(and with it GraphiQL's page, served by gateway/console) is on in dev mode, or as
`GATEWAY_INTROSPECTION` says.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.api.cache import Answer, AnswerCache
from gateway.api.context import Context
from gateway.api.errors import SERVICE_UNAVAILABLE, TOO_LARGE, UNAUTHENTICATED, coded
from gateway.api.limits import MAX_BODY
from gateway.api.relations import RelationCache
from gateway.api.schema import build_schema
from gateway.core.errors import StoreUnavailable
from gateway.service.runtime import Runtime
from gateway.service.tokens import AdminTokens


def _error(status: int, code: str, message: str, headers: dict[str, str]) -> Response:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


UNAUTHORIZED_HEADERS = {"www-authenticate": 'Bearer realm="gateway"'}


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class _View(GraphQL[Context, None]):
    def __init__(self, runtime: Runtime, ide: bool) -> None:
        super().__init__(
            build_schema(introspection=ide),
            graphql_ide=None,  # GraphiQL's page ships in the package: gateway/console
            allow_queries_via_get=False,
        )
        self.runtime = runtime
        self.relations = RelationCache()

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(self.runtime, self.relations)

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
        if result.errors:
            result.errors = [coded(error) for error in result.errors]
        return await super().process_result(request, result)


class _TooLarge(Exception):
    pass


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
        self.view = _View(runtime, self.ide)
        registry = runtime.registry
        self.cache = AnswerCache(lambda: registry.generation)

    async def start(self) -> None:
        """Check that a token is configured (ConfigError otherwise, outside dev mode)."""
        await self.tokens.start()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        request = Request(scope)
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
