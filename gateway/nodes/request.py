"""`request`: an outbound HTTP call through the shared client and its forgery guard."""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
import uuid
from typing import Any

import httpx
import orjson

from gateway import outbound
from gateway.core.clock import utcnow
from gateway.core.errors import NodeFailure, Problem
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.core.types import JSONObject, Scope
from gateway.engine.node import Done, Ended, NodeType, Outcome, RunContext, Stop
from gateway.engine.templates import Template, compile_template, template_problems, to_text
from gateway.nodes.common import bool_problems, number_problems, pairs_problems
from gateway.nodes.registry import register
from gateway.nodes.retry import RetryPolicy, retry_problems
from gateway.outbound import credentials

log = logging.getLogger("gateway.nodes.request")

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
JSON, FORM, TEXT = "application/json", "application/x-www-form-urlencoded", "text/plain"
CONTENT_TYPES = (JSON, FORM, TEXT)
DEFAULT_TIMEOUT_MS = 5000
MAX_TIMEOUT_MS = 60_000
# Stable across re-runs of the same execution: the key of one node run.
IDEMPOTENCY_NAMESPACE = uuid.UUID("5b0d6a4e-8c0e-4f8e-9d43-2f7f1e2a9c11")


def idempotency_key(execution_id: str, node_key: str, position: tuple[int, ...]) -> str:
    """`Idempotency-Key` of one node run: the same for a re-run of the same execution,
    different per node and per loop iteration."""
    name = f"{execution_id}/{node_key}/{'.'.join(map(str, position))}"
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, name))


def url_problems(value: Any, field: str) -> list[Problem]:
    if not isinstance(value, str) or not value.strip():
        return [Problem(field, "required: an http(s) URL", hint="e.g. https://api.example.com/x")]
    problems = template_problems(value, field)
    if problems or not compile_template(value).is_constant:
        return problems
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        return [Problem(field, f"not a URL: {exc}")]
    if url.scheme not in ("http", "https") or not url.host:
        return [Problem(field, "must be an http or https URL with a host")]
    return []


def encode_body(content_type: str, data: Any) -> bytes:
    if content_type == JSON:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    if content_type == FORM:
        if isinstance(data, list):
            pairs = [
                (to_text(i.get("name")), to_text(i.get("value")))
                for i in data
                if isinstance(i, dict)
            ]
        elif isinstance(data, dict):
            pairs = [(to_text(k), to_text(v)) for k, v in data.items()]
        else:
            return to_text(data).encode()
        return urllib.parse.urlencode(pairs).encode()
    return to_text(data).encode()


def decode_body(reply: outbound.Reply) -> Any:
    text = reply.body.decode("utf-8", errors="replace")
    kind = reply.content_type
    if kind == JSON or kind.endswith("+json"):
        try:
            return orjson.loads(reply.body)
        except orjson.JSONDecodeError:
            return text
    return text


class Pairs:
    def __init__(self, items: list[dict[str, Any]] | None) -> None:
        self.items = [(str(i["name"]), compile_template(i.get("value", ""))) for i in items or []]

    def render(self, scope: Scope) -> list[tuple[str, str]]:
        return [(name, to_text(value.render(scope))) for name, value in self.items]


@register
class Request(NodeType):
    """The job's result is `{status, headers, data}` (`data` parsed when the answer is
    JSON, else text), or only `data` with `onlyData`. A non-2xx answer, a timeout or a
    failed connection ends the job and the execution FAILED, unless `ignoreFail`, which
    records the result (or `{"error": ...}`) and goes on. A target the guard refuses is a
    node error (ERROR) whatever `ignoreFail` says. Every call carries an `Idempotency-Key`
    (see `idempotency_key`) unless the config sets one; `retry` (`nodes/retry.py`) tries
    again on a network error, a timeout or the listed statuses, with the same key, and the
    job records every try (`JobRecord.attempts`). A failure on the retry list (the node's
    own `retry.on`, else network, timeout, 429, 5xx) is `retryable` for the execution.
    """

    type_name = "request"
    config_keys = frozenset(
        {
            "method",
            "url",
            "headers",
            "params",
            "contentType",
            "data",
            "timeout",
            "ignoreFail",
            "onlyData",
            "retry",
        }
    )
    title = "HTTP request"
    description = "Call an HTTP service."

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.method = str(config.get("method", "POST")).upper()
        self.url = compile_template(config["url"])
        self.headers = Pairs(config.get("headers"))
        self.params = Pairs(config.get("params"))
        self.content_type = config.get("contentType", JSON)
        self.data: Template = compile_template(config.get("data"))
        self.timeout = float(config.get("timeout", DEFAULT_TIMEOUT_MS)) / 1000
        self.ignore_fail = bool(config.get("ignoreFail", False))
        self.only_data = bool(config.get("onlyData", False))
        self.retry = RetryPolicy.from_config(config.get("retry"))
        # What an execution retry may cure: the node's own list, else the default one.
        self.retry_on = self.retry if "retry" in config else RetryPolicy()
        self.credentials = self._credential_names()

    def _credential_names(self) -> tuple[str, ...]:
        templates = [self.url, self.data, *(t for _, t in self.headers.items + self.params.items)]
        return tuple(
            sorted(
                {
                    str(ref.path[0])
                    for template in templates
                    for ref in template.references
                    if ref.root == credentials.ROOT and ref.path
                }
            )
        )

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        problems = super().check(config, field)
        if problems:
            return problems
        method = config.get("method", "POST")
        if not isinstance(method, str) or method.upper() not in METHODS:
            problems.append(Problem(f"{field}.method", f"must be one of {', '.join(METHODS)}"))
        if config.get("contentType", JSON) not in CONTENT_TYPES:
            problems.append(
                Problem(f"{field}.contentType", f"must be one of {', '.join(CONTENT_TYPES)}")
            )
        timeout = config.get("timeout", DEFAULT_TIMEOUT_MS)
        problems += (
            url_problems(config.get("url"), f"{field}.url")
            + pairs_problems(config.get("headers"), f"{field}.headers")
            + pairs_problems(config.get("params"), f"{field}.params")
            + template_problems(config.get("data"), f"{field}.data")
            + _timeout_problems(timeout, f"{field}.timeout")
            + bool_problems(config, "ignoreFail", field)
            + bool_problems(config, "onlyData", field)
            + retry_problems(config.get("retry"), f"{field}.retry")
        )
        return problems

    async def execute(self, scope: Scope, run: RunContext) -> Outcome:
        """Send the call, again while the retry policy says so: every try is recorded in
        `run.attempts` and logged, and carries the same `Idempotency-Key`."""
        secrets: dict[str, str] = {}
        if self.credentials:  # opened now, for this call only; redacted from what it gives
            secrets = await credentials.resolve(self.credentials)
            scope = {**scope, credentials.ROOT: secrets}
        key = idempotency_key(run.key_id or run.execution_id, run.node_key, run.position)
        call = self.call(scope, key)
        share = None
        if run.max_outbound is not None:
            share = outbound.Share(run.workflow, run.max_outbound)
        tries = 0
        while True:
            tries += 1
            failure, result, message, retry_after = await self._try(call, run, secrets, share)
            if failure is None:
                return Done(result)
            wait = self._next_wait(failure, tries, retry_after, run.deadline)
            _log_try(run, tries, message, wait)
            if wait is None:
                return self._failed(result, message, self.retry_on.retryable(failure))
            run.attempts[-1]["retryInMs"] = round(wait * 1000)
            await asyncio.sleep(wait)

    async def _try(
        self,
        call: outbound.Call,
        run: RunContext,
        secrets: dict[str, str],
        share: outbound.Share | None = None,
    ) -> tuple[str | int | None, Any, str, str | None]:
        """One try: (what failed — `network`, `timeout`, `other` or the status — or None,
        the result, the error message, the answer's Retry-After); credentials redacted."""
        at = utcnow().isoformat()
        try:
            reply = await outbound.current().send(call, share)
        except outbound.RequestFailed as exc:
            error = credentials.redact(str(exc), secrets)
            run.attempts.append({"at": at, "outcome": exc.kind, "error": error})
            return exc.kind, {"error": error}, error, None
        except NodeFailure as exc:  # the guard refused the target: its message has the URL
            raise NodeFailure(credentials.redact(str(exc), secrets)) from None
        ok = 200 <= reply.status < 300
        outcome = "ok" if ok else "status"
        run.attempts.append({"at": at, "outcome": outcome, "status": reply.status})
        url = credentials.redact(reply.url, secrets)
        message = f"{self.method} {url} answered {reply.status}"
        return (
            (None if ok else reply.status),
            credentials.redact(self._result(reply), secrets),
            message,
            reply.headers.get("retry-after"),
        )

    def _next_wait(
        self, failure: str | int, tries: int, retry_after: str | None, deadline: float | None
    ) -> float | None:
        """Seconds before the next try, or None when there is none: tries used up, a
        failure the policy does not retry, or a wait that would outlast the run's timeout."""
        if tries >= self.retry.attempts or not self.retry.retryable(failure):
            return None
        wait = self.retry.delay(tries, retry_after)
        if deadline is not None and asyncio.get_running_loop().time() + wait >= deadline:
            return None
        return wait

    def call(self, scope: Scope, key: str) -> outbound.Call:
        """The call this node makes in `scope` (deciding, apart from sending)."""
        headers = self.headers.render(scope)
        names = {name.lower() for name, _ in headers}
        content = None
        if self.method not in ("GET", "HEAD") and self.config.get("data") is not None:
            content = encode_body(self.content_type, self.data.render(scope))
            if "content-type" not in names:
                headers.append(("Content-Type", self.content_type))
        if "idempotency-key" not in names:
            headers.append(("Idempotency-Key", key))
        url = to_text(self.url.render(scope))
        return outbound.Call(
            self.method, url, headers, self.params.render(scope), content, self.timeout
        )

    def _result(self, reply: outbound.Reply) -> Any:
        data = decode_body(reply)
        if self.only_data:
            return data
        return {"status": reply.status, "headers": reply.headers, "data": data}

    def _failed(self, result: Any, message: str, retryable: bool = False) -> Outcome:
        if self.ignore_fail:
            return Done(result)
        error = f"node {self.key}: {message}"
        ended = Ended(ExecutionStatus.FAILED, error=error, retryable=retryable)
        return Stop(ended, result, JobStatus.FAILED)


def _log_try(run: RunContext, tries: int, message: str, wait: float | None) -> None:
    extra = {"execution_id": run.execution_id, "node": run.node_key, "attempt": tries}
    if wait is None:
        log.info("request attempt %d failed: %s", tries, message, extra=extra)
    else:
        log.info(
            "request attempt %d failed: %s; retrying in %.3f s", tries, message, wait, extra=extra
        )


def _timeout_problems(value: Any, field: str) -> list[Problem]:
    if isinstance(value, str):
        return [Problem(field, "must be a number of milliseconds")]
    return number_problems(value, field, minimum=1, maximum=MAX_TIMEOUT_MS)
