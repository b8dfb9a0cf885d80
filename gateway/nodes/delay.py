"""`delay`: park the execution for a while (async workflows only), then go on or fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.core.errors import NodeFailure, Problem
from gateway.core.statuses import ExecutionStatus
from gateway.core.types import JSONObject, Scope
from gateway.engine.node import NodeType, Outcome, Park
from gateway.engine.templates import compile_template
from gateway.nodes.common import number_problems
from gateway.nodes.registry import register

# NocoBase stores the unit as its length in milliseconds; names are accepted too.
UNITS: dict[Any, int] = {
    1000: 1000,
    60_000: 60_000,
    3_600_000: 3_600_000,
    86_400_000: 86_400_000,
    604_800_000: 604_800_000,
    "second": 1000,
    "minute": 60_000,
    "hour": 3_600_000,
    "day": 86_400_000,
    "week": 604_800_000,
}
MAX_DELAY_MS = 366 * 86_400_000
END_STATUSES = {1: None, -1: ExecutionStatus.FAILED}


def _unit(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return UNITS.get(value)


@register
class Delay(NodeType):
    """Parks the execution for `duration` times `unit` (at most a year). When the time is up
    the execution resumes after this node (`endStatus: 1`, the default) or ends FAILED
    (`endStatus: -1`). The job's result is `{"resumeAt": <RFC 3339 time>}`."""

    type_name = "delay"
    config_keys = frozenset({"unit", "duration", "endStatus"})
    title = "Delay"
    description = "Wait, then continue (async workflows only)."
    async_only = True
    parks = True

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.unit = _unit(config.get("unit", 1000)) or 1000
        self.duration = compile_template(config.get("duration", 0))
        self.then = END_STATUSES[config.get("endStatus", 1)]

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        problems = super().check(config, field)
        if problems:
            return problems
        unit = config.get("unit", 1000)
        if _unit(unit) is None:
            problems.append(
                Problem(
                    f"{field}.unit",
                    f"unknown unit {unit!r}",
                    hint="second, minute, hour, day, week (or NocoBase's 1000, 60000, ...)",
                )
            )
        maximum = MAX_DELAY_MS / (_unit(unit) or 1000)
        problems += number_problems(config.get("duration"), f"{field}.duration", maximum=maximum)
        status = config.get("endStatus", 1)
        if isinstance(status, bool) or not isinstance(status, int) or status not in END_STATUSES:
            problems.append(Problem(f"{field}.endStatus", "must be 1 (go on) or -1 (fail)"))
        return problems

    async def run(self, scope: Scope) -> Outcome:
        value = self.duration.render(scope)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise NodeFailure(f"duration rendered to {value!r}, not a number")
        milliseconds = value * self.unit
        if not 0 <= milliseconds <= MAX_DELAY_MS:
            raise NodeFailure(f"a delay of {milliseconds:g} ms is out of range (0 to a year)")
        resume_at = datetime.now(UTC) + timedelta(milliseconds=milliseconds)
        return Park(resume_at, {"resumeAt": resume_at.isoformat()}, self.then)
