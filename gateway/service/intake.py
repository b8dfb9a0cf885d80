"""From a webhook request to a `Call`: the trigger's guards and the request's parsing.

The webhook adapter reads the HTTP request; what decides whether a call gets in and what
its variables are lives here, in the order of docs/webhooks.md:

1. `admit`, before the body is read: the failed-authentication block and the rate limit
   (429), basic authentication (401);
2. `verify`: the signature over the raw body (401);
3. `call`: the query and body parsed (400/415), the parse rules applied (400 listing every
   failing rule), the `$context` built.

A 401 counts as a failed attempt of the calling client on this trigger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.core.errors import Rejected
from gateway.engine.requests import parse_body, parse_headers, parse_query
from gateway.engine.rules import apply_rules
from gateway.security.basic_auth import check_basic
from gateway.security.signed import SignedRequest
from gateway.service.calls import Call
from gateway.service.limits import Limits
from gateway.workflows.compiled import CompiledWorkflow


@dataclass(frozen=True, slots=True)
class Headers:
    """A call's headers by lower-case name: `visible` go into `$context.headers`; `hidden`
    (authorization, cookies) only when a parse rule names them."""

    visible: dict[str, str]
    hidden: dict[str, str]


class Intake:
    def __init__(self, limits: Limits, json_depth: int) -> None:
        self.limits = limits
        self.json_depth = json_depth

    @staticmethod
    def guarded(workflow: CompiledWorkflow) -> bool:
        """Whether calls can fail authentication (and are counted by client)."""
        return workflow.username is not None or workflow.signature is not None

    async def admit(
        self,
        workflow: CompiledWorkflow,
        raw_headers: Iterable[tuple[bytes, bytes]],
        client: str | None,
    ) -> Headers:
        """The checks that need no body; `client` is None for an unguarded trigger."""
        visible, hidden = parse_headers(raw_headers, workflow.named_headers)
        await self.limits.admit(workflow.workflow_id, workflow.rate_limit, client)
        if workflow.username is not None:
            authorization = visible.get("authorization", hidden.get("authorization"))
            try:
                check_basic(authorization, workflow.username, workflow.password_hash)
            except Rejected as rejected:
                await self._count_failure(workflow, client, rejected)
                raise
        return Headers(visible, hidden)

    async def verify(
        self,
        workflow: CompiledWorkflow,
        headers: Headers,
        raw: bytes,
        received_at: datetime,
        client: str | None,
        url: str,
    ) -> None:
        """`url` is the URL the sender called (schemes such as Twilio's sign it)."""
        if workflow.signature is None:
            return
        request = SignedRequest(headers.visible, raw, url)
        try:
            workflow.signature.verify(request, received_at.timestamp())
        except Rejected as rejected:
            await self._count_failure(workflow, client, rejected)
            raise

    def call(
        self,
        workflow: CompiledWorkflow,
        method: str,
        path: str,
        headers: Headers,
        query_string: bytes,
        raw: bytes,
        received_at: datetime,
    ) -> Call:
        return parse_call(
            workflow, method, path, headers, query_string, raw, received_at, self.json_depth
        )

    async def _count_failure(
        self, workflow: CompiledWorkflow, client: str | None, rejected: Rejected
    ) -> None:
        if rejected.status == 401 and client is not None:
            await self.limits.failed(workflow.workflow_id, client)


def parse_call(
    workflow: CompiledWorkflow,
    method: str,
    path: str,
    headers: Headers,
    query_string: bytes,
    raw: bytes,
    received_at: datetime,
    json_depth: int,
) -> Call:
    """Query and body parsed (400/415), parse rules applied (400 listing every failing
    rule), the `$context` built."""
    visible = headers.visible
    query = parse_query(query_string)
    body = parse_body(visible.get("content-type"), raw, json_depth)
    data: dict[str, Any] = {"headers": visible, "query": query, "body": body}
    problems = apply_rules(workflow.rules, data, json_depth)
    if problems:
        raise Rejected(
            400, "invalid_request", f"{len(problems)} parse rule(s) failed", details=problems
        )
    context = {
        "method": method,
        "path": path,
        "headers": visible,
        "query": query,
        "body": data["body"],
        "receivedAt": received_at.isoformat(),
    }
    return Call(context, raw, received_at)
