"""Routes of the console: `/` → `/console/`, the built files under `/console/` (any path that
is not a file is a page of the single-page app and gets `index.html`), and GraphiQL's page at
`GET /graphql` when the IDE is on, built from the same sources so it works offline.

Every answer carries a strict Content-Security-Policy (scripts and styles from this origin
only, requests to this origin only, no framing) and the headers that go with it. Assets have
content-hashed names and are cached for a year; the pages are revalidated every time.
"""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).parent / "static"
CONSOLE = "/console/"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        # 'self' covers ws: and wss: to this host (CSP level 3): the subscription socket.
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class Secured:
    """An ASGI app with the security headers added to every answer it sends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_secured)


class ConsoleFiles(StaticFiles):
    """`assets/…` as files (404 when missing); any other path is the app's `index.html`."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path.startswith("assets/"):
            response = await super().get_response(path, scope)
            response.headers["cache-control"] = IMMUTABLE
            return response
        response = await super().get_response("index.html", scope)
        response.headers["cache-control"] = REVALIDATE
        return response


def wants_ide(scope: Scope) -> bool:
    """A browser opening `/graphql` (not an operation: GET operations are refused anyway)."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    accept = Headers(scope=scope).get("accept", "")
    return b"query=" not in scope.get("query_string", b"") and (
        "text/html" in accept or "*/*" in accept
    )


class WithGraphiQL:
    """The GraphQL endpoint, except that a browser's GET gets GraphiQL's page."""

    def __init__(self, endpoint: ASGIApp) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not wants_ide(scope):
            await self.endpoint(scope, receive, send)
            return
        page = FileResponse(STATIC / "graphiql.html", headers={"cache-control": REVALIDATE})
        await Secured(page)(scope, receive, send)


def with_graphiql(endpoint: ASGIApp, enabled: bool) -> ASGIApp:
    """`endpoint` with GraphiQL's page in front when the IDE is `enabled`."""
    return WithGraphiQL(endpoint) if enabled else endpoint


async def _to_console(request: Request) -> Response:
    headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    return RedirectResponse(CONSOLE, status_code=302, headers=headers)


def console_routes() -> list[BaseRoute]:
    files = Secured(ConsoleFiles(directory=STATIC, check_dir=False))
    return [
        Route("/", _to_console, methods=["GET", "HEAD"]),
        Route("/console", _to_console, methods=["GET", "HEAD"]),
        Mount("/console", app=files),
    ]
