"""The process's one outbound HTTP client, behind the request-forgery guard.

`start(allow)` creates it with the runtime and `stop()` closes it. `current().send(...)`
makes one call: it resolves and checks the host (`guard.resolve`), connects to the checked
address (the URL's host is replaced by the address; `Host` and, for https, the TLS server
name and certificate check keep the original name), and follows redirects itself, at most
`MAX_REDIRECTS`, checking every hop the same way. Cookies are never kept between calls.
At most `per_host` calls are in flight to one host:port, and, when the call names a
`Share` (a workflow's `options.maxOutbound`), at most its `limit` for that workflow; the
waits for either come before the call's timeout starts.
httpx errors are translated here: a refused target is `TargetRefused`, a call that could
not complete (connection, timeout, too large) is `RequestFailed`.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import logging
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
from opentelemetry.trace import SpanKind

from gateway.core import tracing
from gateway.core.errors import NodeFailure
from gateway.outbound.guard import AllowList, TargetRefused, resolve
from gateway.outbound.stream import AsyncioBackend

log = logging.getLogger("gateway.outbound")

MAX_REDIRECTS = 5
MAX_RESPONSE = 10 * 1024 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RequestFailed(NodeFailure):
    """The call did not complete: connection refused, timeout, response too large.

    `kind` is what a retry policy matches: `network` (refused, reset, DNS, TLS, closed
    early), `timeout`, or `other` (too large, too many redirects), which no retry helps."""

    def __init__(self, message: str, kind: str = "other") -> None:
        super().__init__(message)
        self.kind = kind


# The wait for a pooled connection does not count against the node's timeout (that starts
# when the request is sent), but it is bounded: a pool that never frees up fails the call.
POOL_WAIT = 60.0


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    url: str
    headers: list[tuple[str, str]]
    params: list[tuple[str, str]]
    content: bytes | None
    timeout: float


@dataclass(frozen=True, slots=True)
class Share:
    """A bound on calls in flight for one workflow (its key), in this process."""

    workflow: str
    limit: int


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


class Transport(httpx.AsyncHTTPTransport):
    """httpx's transport, its connections on asyncio's own transports (`stream.py`);
    `context` for TLS, by default one that trusts certifi's authorities."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        context = context or httpx.create_ssl_context(trust_env=False)
        # httpcore closes an idle connection whenever more than the keep-alive bound are
        # open, busy or not: a bound below the calls in flight would close and reopen
        # connections to a busy host on every call.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        super().__init__(verify=context, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(  # httpx's own, with another backend
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )


class Outbound:
    def __init__(
        self,
        allow: AllowList,
        transport: httpx.AsyncBaseTransport | None = None,
        per_host: int = 32,
    ):
        self.allow = allow
        self.per_host = per_host
        # Requests in flight per host:port: past the bound a call waits its turn here
        # (not against its timeout) instead of opening one more connection to a downstream
        # that is already slow (docs/nodes.md).
        self._slots: dict[tuple[str, int], asyncio.Semaphore] = {}
        # Per workflow key: its limit and slots. A new limit gets new slots (calls holding
        # the old ones release them there), so a changed `maxOutbound` applies at once.
        self._shares: dict[str, tuple[int, asyncio.Semaphore]] = {}
        self.client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
            transport=transport or Transport(),
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, call: Call, share: Share | None = None) -> Reply:
        """Make the call, following redirects; with `share`, after a slot of the
        workflow's is free (held across the redirects)."""
        if share is None:
            return await self._send(call)
        async with self._share(share):
            return await self._send(call)

    @asynccontextmanager
    async def _share(self, share: Share) -> AsyncIterator[None]:
        # Unbounded, unlike the wait for a host's slot: every holder's call ends within its
        # own timeout (and the host wait), so the queue always moves.
        held = self._shares.get(share.workflow)
        if held is None or held[0] != share.limit:
            held = self._shares[share.workflow] = (share.limit, asyncio.Semaphore(share.limit))
        slots = held[1]
        if slots.locked() and log.isEnabledFor(logging.DEBUG):
            message = "request waits for a slot: %d in flight for its workflow (maxOutbound)"
            log.debug(message, share.limit, extra={"workflow": share.workflow})
        async with slots:
            yield

    async def _send(self, call: Call) -> Reply:
        try:
            url = httpx.URL(call.url)
            if call.params:
                url = url.copy_merge_params(httpx.QueryParams(tuple(call.params)))
        except httpx.InvalidURL as exc:
            raise TargetRefused(f"refused to call {call.url!r}: {exc}") from exc
        method, content, headers = call.method.upper(), call.content, list(call.headers)
        timeout = httpx.Timeout(call.timeout, pool=max(call.timeout, POOL_WAIT))
        for _ in range(MAX_REDIRECTS + 1):
            reply = await self._send_once(method, url, headers, content, timeout)
            location = reply.headers.get("location")
            if reply.status not in REDIRECTS or not location:
                return reply
            next_url = url.join(location)
            if reply.status == 303 or (reply.status in (301, 302) and method == "POST"):
                method, content = "GET", None
                headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            if next_url.netloc != url.netloc or next_url.scheme != url.scheme:
                headers = [(k, v) for k, v in headers if k.lower() != "authorization"]
            url = next_url
        raise RequestFailed(f"more than {MAX_REDIRECTS} redirects")

    async def _send_once(
        self,
        method: str,
        url: httpx.URL,
        headers: list[tuple[str, str]],
        content: bytes | None,
        timeout: httpx.Timeout,
    ) -> Reply:
        if url.scheme not in _DEFAULT_PORTS or not url.host:
            raise TargetRefused(f"refused to call {url}: only http and https URLs with a host")
        port = url.port or _DEFAULT_PORTS[url.scheme]
        try:
            address = (await resolve(url.host, port, self.allow))[0]
        except TargetRefused:
            raise
        except NodeFailure as exc:  # the name did not resolve: perhaps only for now
            raise RequestFailed(f"{method} {url} failed: {exc}", "network") from exc
        extensions: dict[str, Any] = {"timeout": timeout.as_dict()}
        if url.scheme == "https":
            extensions["sni_hostname"] = url.host
        request = self.client.build_request(
            method,
            url.copy_with(host=str(address)),
            headers=[*headers, ("Host", url.netloc.decode("ascii"))],
            content=content,
            extensions=extensions,
        )
        try:
            async with self._slot(url.host, port, method, url):
                if tracing.ON:
                    return await self._traced_exchange(request, url)
                return await self._exchange(request, str(url))
        except httpx.TimeoutException as exc:
            raise RequestFailed(f"{method} {url} {_timeout_phase(exc)}", "timeout") from exc
        except httpx.HTTPError as exc:
            raise RequestFailed(f"{method} {url} failed: {cause(exc)}", "network") from exc

    @asynccontextmanager
    async def _slot(self, host: str, port: int, method: str, url: httpx.URL) -> AsyncIterator[None]:
        slots = self._slots.get((host, port))
        if slots is None:
            slots = self._slots[host, port] = asyncio.Semaphore(self.per_host)
        try:
            async with asyncio.timeout(POOL_WAIT):
                await slots.acquire()
        except TimeoutError:
            message = f"{method} {url} timed out waiting for a free connection"
            raise RequestFailed(message, "timeout") from None
        try:
            yield
        finally:
            slots.release()

    async def _traced_exchange(self, request: httpx.Request, url: httpx.URL) -> Reply:
        """`_exchange` in a client span, its `traceparent` sent downstream. Attributes name
        the method, host and port, never the path or query (they may carry secrets)."""
        attributes = {
            "http.request.method": request.method,
            "server.address": url.host,
            "server.port": url.port or _DEFAULT_PORTS.get(url.scheme, 0),
        }
        with tracing.span(f"{request.method}", attributes, kind=SpanKind.CLIENT) as span:
            carried: list[tuple[str, str]] = []
            tracing.outgoing(carried)
            for name, value in carried:
                request.headers.setdefault(name, value)
            reply = await self._exchange(request, str(url))
            span.set_attribute("http.response.status_code", reply.status)
            if reply.status >= 500:
                tracing.failed(span, f"answered {reply.status}")
            return reply

    async def _exchange(self, request: httpx.Request, url: str) -> Reply:
        response = await self.client.send(request, stream=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE:
                    raise RequestFailed(f"the response is larger than {MAX_RESPONSE} bytes")
        finally:
            await response.aclose()
        headers = {k.lower(): v for k, v in response.headers.multi_items()}
        return Reply(response.status_code, headers, bytes(body), url)


def _timeout_phase(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "timed out connecting"
    if isinstance(exc, httpx.WriteTimeout):
        return "timed out sending the request"
    if isinstance(exc, httpx.PoolTimeout):
        return "timed out waiting for a free connection"
    return "timed out waiting for the answer"


_CAUSES: tuple[tuple[type[BaseException], str], ...] = (
    (ConnectionRefusedError, "connection refused"),
    (ConnectionResetError, "connection reset by the server"),
    (ConnectionAbortedError, "connection aborted"),
    (BrokenPipeError, "connection closed by the server while sending"),
    (socket.gaierror, "DNS lookup failed"),
    (ssl.SSLCertVerificationError, "TLS certificate not trusted"),
    (ssl.SSLError, "TLS handshake failed"),
)


def cause(exc: BaseException) -> str:
    """What went wrong, in words, never empty: several httpx errors have no text of their
    own, and the operating system's error hides in their chain."""
    seen: BaseException | None = exc
    while seen is not None:
        for kind, words in _CAUSES:
            if isinstance(seen, kind):
                detail = str(seen).strip()
                return f"{words} ({detail})" if detail and words not in detail else words
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the server broke the protocol or closed the connection ({exc or 'no answer'})"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({exc or type(exc).__name__})"
    if isinstance(exc, httpx.ReadError):
        return f"connection lost while reading the answer ({exc or type(exc).__name__})"
    return str(exc).strip() or type(exc).__name__


_current: Outbound | None = None


async def start(
    allow: tuple[str, ...],
    transport: httpx.AsyncBaseTransport | None = None,
    per_host: int = 32,
) -> None:
    """Create the process's client (the runtime calls this on start)."""
    global _current
    # httpx logs every request's URL at INFO, and a URL may carry a credential
    for library in ("httpx", "httpcore"):
        logging.getLogger(library).setLevel(logging.WARNING)
    if _current is not None:
        await _current.aclose()
    _current = Outbound(AllowList.parse(allow), transport, per_host)


async def stop() -> None:
    global _current
    if _current is not None:
        await _current.aclose()
        _current = None


def current() -> Outbound:
    if _current is None:
        raise NodeFailure("outbound HTTP is not available (the runtime has not started it)")
    return _current
