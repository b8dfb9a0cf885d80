"""A workflow version compiled once for the hot path: trigger checks, parse rules, the
async answer and the node plan, all built from the version's immutable snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.engine.plan import Plan
from gateway.engine.responses import CompiledHeaders
from gateway.engine.rules import Rule, compile_rules, named_headers
from gateway.engine.templates import Template, compile_template
from gateway.nodes import compile_plan
from gateway.security.rates import Rate
from gateway.security.secrets import SecretBox
from gateway.security.signatures import signature_verifier
from gateway.security.signed import Verifier
from gateway.workflows.dedup import Dedup, compile_dedup
from gateway.workflows.retry_options import OnFailure, compile_on_failure, compile_schedule


def snapshot(document: dict[str, Any]) -> dict[str, Any]:
    """The versioned part of a stored document: what an execution runs.

    Title, description, `enabled` and the trigger's URL key are not part of it: changing
    them does not change what a queued execution does.
    """
    trigger = {k: v for k, v in document["trigger"].items() if k != "key"}
    return {
        "sync": document["sync"],
        "options": document["options"],
        "trigger": trigger,
        "nodes": document["nodes"],
    }


@dataclass(frozen=True, slots=True)
class CompiledWorkflow:
    workflow_id: int
    workflow_key: str
    version_id: int
    sync: bool
    timeout: float | None
    keep_executions: str
    on_worker_lost: str
    username: str | None
    password_hash: str | None
    rules: tuple[Rule, ...]
    named_headers: frozenset[str]
    response_status: int
    response_headers: CompiledHeaders
    response_body: Template
    plan: Plan
    signature: Verifier | None = None
    rate_limit: Rate | None = None
    dedup: Dedup | None = None
    untimed: bool = False
    """The plan runs without a timer: no node of it waits (`Plan.instant`) or no timeout."""
    retry_schedule: tuple[float, ...] = ()
    """Seconds before each execution retry (async workflows, `options.retry`)."""
    on_failure: OnFailure | None = None
    max_outbound: int | None = None
    """Calls of its request nodes in flight at once, per process (`options.maxOutbound`)."""


def compile_workflow(
    workflow_id: int,
    workflow_key: str,
    version_id: int,
    definition: dict[str, Any],
    default_timeout_ms: int,
    secret_box: SecretBox,
) -> CompiledWorkflow:
    options = definition.get("options") or {}
    trigger = definition["trigger"]
    auth = trigger.get("basicAuthentication") or {}
    rules = compile_rules(trigger.get("request"))
    response = trigger.get("response") or {}
    sync = bool(definition["sync"])
    timeout_ms = options.get("timeout")
    if timeout_ms is None and sync:
        timeout_ms = default_timeout_ms
    plan = compile_plan(definition)
    return CompiledWorkflow(
        workflow_id=workflow_id,
        workflow_key=workflow_key,
        version_id=version_id,
        sync=sync,
        timeout=timeout_ms / 1000 if timeout_ms else None,
        keep_executions=options.get("keepExecutions", "all"),
        on_worker_lost=options.get("onWorkerLost", "rerun"),
        username=auth.get("username"),
        password_hash=auth.get("passwordHash"),
        rules=rules,
        named_headers=named_headers(rules),
        response_status=int(response.get("statusCode", 200)),
        response_headers=CompiledHeaders(response.get("headers")),
        response_body=compile_template(response.get("body", "ok")),
        plan=plan,
        signature=signature_verifier(trigger.get("signature"), secret_box, workflow_key),
        rate_limit=Rate.from_option(trigger.get("rateLimit")),
        dedup=compile_dedup(trigger.get("deduplicate"), trigger.get("signature")),
        untimed=plan.instant or not timeout_ms,
        retry_schedule=compile_schedule(options, sync),
        on_failure=compile_on_failure(options),
        max_outbound=options.get("maxOutbound"),
    )
