"""The HTTP connection protocol `gateway serve` runs: uvicorn's httptools protocol with the
socket timeouts it lacks (docs/security.md, Sockets).

uvicorn closes a keep-alive connection that stays idle after a response
(`timeout_keep_alive`) and answers 503 past `limit_concurrency`, but a connection that
never finishes its request head, or trickles its body, stays open for good: each costs a
file descriptor and memory. Here:

- the request head (request line and headers) must be complete within `header_timeout`
  seconds of the connection's opening and of each request's first byte — else `408` and
  close (a connection that sent nothing is just closed);
- the body must bring `body_min_rate` bytes per second, judged over each window of
  `body_timeout` seconds, until it is complete — else `408` (when no answer has started)
  and close. While reading is paused (the application has not taken what came), the
  window does not count against the client.

uvicorn's protocol class is the seam it offers for this (`http=`); the subclass uses its
parser callbacks and `transport`, `cycle` and `flow` attributes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.core.settings import Settings

TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 16\r\nconnection: close\r\n\r\nrequest timeout\n"
)


class TimedProtocol(HttpToolsProtocol):
    header_timeout = 10.0
    body_timeout = 10.0
    body_min_rate = 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One timer per connection, moved lazily: arming sets the deadline and what to call
        # then; the timer, when it fires early, waits again for the deadline. A request on a
        # kept-alive connection then schedules no timer of its own.
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._due = 0.0
        self._on_due: Any = None
        self._in_head = False
        self._body_seen = 0
        self._body_mark = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, self._head_late)

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_due = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._arm(self.header_timeout, self._head_late)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._body_seen = self._body_mark = 0
        self._arm(self.body_timeout, self._body_window)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_seen += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._on_due = None
        super().on_message_complete()

    def _arm(self, delay: float, callback: Any) -> None:
        self._due = self.loop.time() + delay
        self._on_due = callback
        if self._timer is not None and self._timer_at <= self._due:
            return  # fires first, then waits for the rest
        if self._timer is not None:
            self._timer.cancel()
        self._schedule()

    def _schedule(self) -> None:
        self._timer_at = self._due
        self._timer = self.loop.call_at(self._due, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._on_due is None:
            return  # disarmed: the next arming schedules again
        if self.loop.time() < self._due:
            self._schedule()
            return
        callback, self._on_due = self._on_due, None
        callback()

    def _head_late(self) -> None:
        self._close(answer=self._in_head)

    def _body_window(self) -> None:
        brought = self._body_seen - self._body_mark
        if not self.flow.read_paused and brought < self.body_min_rate * self.body_timeout:
            started = self.cycle is not None and self.cycle.response_started
            self._close(answer=not started)
            return
        self._body_mark = self._body_seen
        self._arm(self.body_timeout, self._body_window)

    def _close(self, answer: bool) -> None:
        if self.transport.is_closing():
            return
        if answer:
            self.transport.write(TIMEOUT_ANSWER)
        self.transport.close()


def timed_protocol(settings: Settings) -> type[TimedProtocol]:
    """The protocol class with `settings`' timeouts, for uvicorn's `http=`."""
    return type(
        "GatewayProtocol",
        (TimedProtocol,),
        {
            "header_timeout": settings.header_timeout,
            "body_timeout": settings.body_timeout,
            "body_min_rate": settings.body_min_rate,
        },
    )


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options for the sockets: the protocol, idle keep-alive, connection cap."""
    return {
        "http": timed_protocol(settings),
        "timeout_keep_alive": settings.keep_alive_timeout,
        "limit_concurrency": settings.max_connections,
    }
