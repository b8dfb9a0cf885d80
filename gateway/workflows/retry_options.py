"""A workflow's `options.retry` (execution retries, async workflows) and `options.onFailure`.

    options:
      retry: {schedule: [5s, 5m, 30m, 2h, 5h, 10h, 10h]}   # [] = no execution retry
      onFailure: {workflow: alert-on-call, when: deadLetter} # or everyFailure

An async execution that ends in a retryable failure runs again after each wait of the
schedule in turn (resuming at the failed node); once they are used up it is a dead letter.
Without `options.retry` an async workflow has `DEFAULT_SCHEDULE` (Svix's: after the first
try, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). Sync workflows never retry executions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gateway.core.durations import HINT, parse_duration
from gateway.core.errors import Problem

DEFAULT_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18_000.0, 36_000.0, 36_000.0)
MAX_RETRIES = 20
MAX_WAIT_MS = 7 * 24 * 3_600_000
WHEN = ("deadLetter", "everyFailure")
_WORKFLOW_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True, slots=True)
class OnFailure:
    workflow: str
    every_failure: bool = False


def retry_problems(value: Any, sync: bool) -> list[Problem]:
    field = "options.retry"
    if value is None:
        return []
    if not isinstance(value, dict) or set(value) - {"schedule"}:
        return [Problem(field, "must be {schedule: [...]}", hint="{schedule: [5s, 5m, 30m]}")]
    schedule = value.get("schedule")
    if not isinstance(schedule, list):
        return [Problem(f"{field}.schedule", "must be a list of waits", hint=HINT)]
    if len(schedule) > MAX_RETRIES:
        return [Problem(f"{field}.schedule", f"at most {MAX_RETRIES} retries")]
    if sync and schedule:
        return [
            Problem(
                f"{field}.schedule",
                "execution retries are for async workflows (a sync caller is answered once)",
                hint="retry the request node instead: config.retry",
            )
        ]
    problems = []
    for index, wait in enumerate(schedule):
        milliseconds = parse_duration(wait)
        if milliseconds is None or milliseconds > MAX_WAIT_MS:
            problems.append(
                Problem(f"{field}.schedule[{index}]", "must be a wait of up to 7 days", hint=HINT)
            )
    return problems


def on_failure_problems(value: Any, key: Any, sync: bool = False) -> list[Problem]:
    field = "options.onFailure"
    if value is None:
        return []
    if sync:
        hint = "a sync caller gets the failure in its answer; make the workflow async"
        return [Problem(field, "a failure workflow is for async workflows", hint=hint)]
    if not isinstance(value, dict) or set(value) - {"workflow", "when"}:
        return [Problem(field, "must be {workflow, when}", hint="{workflow: alert-on-call}")]
    problems = []
    workflow = value.get("workflow")
    if not isinstance(workflow, str) or not _WORKFLOW_KEY.match(workflow):
        problems.append(Problem(f"{field}.workflow", "required: the key of a workflow"))
    elif workflow == key:
        problems.append(Problem(f"{field}.workflow", "must name another workflow"))
    if value.get("when", "deadLetter") not in WHEN:
        problems.append(Problem(f"{field}.when", "must be deadLetter or everyFailure"))
    return problems


def compile_schedule(options: dict[str, Any], sync: bool) -> tuple[float, ...]:
    """Seconds of each wait before an execution retry; () for sync workflows."""
    if sync:
        return ()
    retry = options.get("retry")
    if not isinstance(retry, dict):
        return DEFAULT_SCHEDULE
    return tuple((parse_duration(w) or 0.0) / 1000 for w in retry.get("schedule") or [])


def compile_on_failure(options: dict[str, Any]) -> OnFailure | None:
    value = options.get("onFailure")
    if not isinstance(value, dict):
        return None
    return OnFailure(str(value["workflow"]), value.get("when") == "everyFailure")
