"""The trigger option `deduplicate: {key: "<template>", window: seconds}`
(docs/executions.md, De-duplication).

The key is rendered from the call (`$context`); a call whose key is empty or missing is
never treated as a duplicate. Keys longer than the column are stored as their SHA-256.

A trigger with a signing preset and no `deduplicate` de-duplicates on that sender's
delivery id (`PRESET_KEYS`): what stays the same when the sender retries, so a retry of a
call whose answer was lost never runs the workflow twice. `deduplicate: false` turns that
off.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.core.errors import Problem, TemplateError
from gateway.core.types import Scope
from gateway.engine.templates import Template, compile_template, to_text
from gateway.store.dedup import DedupClaim
from gateway.workflows.unknown import unknown_field

FIELD = "trigger.deduplicate"
DEFAULT_WINDOW = 24 * 3600
MAX_WINDOW = 30 * 24 * 3600
MAX_KEY = 300
DAY = 24 * 3600

# Each signing preset's delivery id, and a window that covers the sender's retries.
PRESET_KEYS: dict[str, tuple[str, int]] = {
    # GitHub does not retry on its own; a redelivery (UI or API, within 3 days) keeps the id.
    "github": ("{{$context.headers.x-github-delivery}}", 3 * DAY),
    # Stripe retries an event for up to 3 days; its id is the event's.
    "stripe": ("{{$context.body.id}}", 3 * DAY),
    # Events API only (interactivity and commands have no id); Slack retries within an hour.
    "slack": ("{{$context.body.event_id}}", DAY),
    # Shopify retries 8 times over 4 hours.
    "shopify": ("{{$context.headers.x-shopify-webhook-id}}", 2 * DAY),
    # The spec's example schedule spans 3 days; Svix-branded senders send svix-id instead.
    "standard-webhooks": ("{{$context.headers.webhook-id}}{{$context.headers.svix-id}}", 4 * DAY),
    # Twilio's retries (connection overrides) come within minutes.
    "twilio": ("{{$context.headers.i-twilio-idempotency-token}}", DAY),
}


@dataclass(frozen=True, slots=True)
class Dedup:
    key: Template
    window: int

    def render(self, scope: Scope) -> str | None:
        text = to_text(self.key.render(scope)).strip()
        if not text:
            return None
        if len(text) > MAX_KEY:
            return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        return text

    def claim(
        self,
        workflow_id: int,
        key: str,
        execution_id: uuid.UUID,
        now: datetime,
        response: dict[str, Any] | None = None,
    ) -> DedupClaim:
        expires = now + timedelta(seconds=self.window)
        return DedupClaim(workflow_id, key, execution_id, expires, response)


def effective_dedup(option: Any, signature: Any) -> dict[str, Any] | None:
    """The `deduplicate` a trigger runs with: its own, none for `false`, else its signing
    preset's delivery id."""
    if option is False:
        return None
    if isinstance(option, dict):
        return option
    preset = signature.get("preset", "hmac") if isinstance(signature, dict) else None
    if preset not in PRESET_KEYS:
        return None
    key, window = PRESET_KEYS[preset]
    return {"key": key, "window": window}


def compile_dedup(option: Any, signature: Any = None) -> Dedup | None:
    chosen = effective_dedup(option, signature)
    if chosen is None:
        return None
    return Dedup(compile_template(chosen["key"]), int(chosen.get("window", DEFAULT_WINDOW)))


def dedup_problems(option: Any) -> list[Problem]:
    if option is None or option is False:
        return []
    if not isinstance(option, dict):
        return [Problem(FIELD, "must be {key, window}, or false")]
    problems = [
        unknown_field(f"{FIELD}.{name}", name, ("key", "window"))
        for name in option
        if name not in ("key", "window")
    ]
    problems += _key_problems(option.get("key"))
    window = option.get("window", DEFAULT_WINDOW)
    if isinstance(window, bool) or not isinstance(window, int) or not 0 < window <= MAX_WINDOW:
        problems.append(Problem(f"{FIELD}.window", f"must be seconds, 1 to {MAX_WINDOW}"))
    return problems


def _key_problems(key: Any) -> list[Problem]:
    field = f"{FIELD}.key"
    if not isinstance(key, str) or not key:
        return [
            Problem(field, "required: a template such as {{$context.headers.x-github-delivery}}")
        ]
    try:
        template = compile_template(key)
    except TemplateError as exc:
        return [Problem(field, str(exc))]
    if template.is_constant:
        return [
            Problem(
                field,
                "must use the call, e.g. {{$context.body.id}}: a constant key "
                "would make every call after the first a duplicate",
            )
        ]
    if any(ref.root in ("$jobsMapByNodeKey", "$scopes") for ref in template.references):
        return [Problem(field, "may only use $context, $system and $env: nothing has run yet")]
    return []
