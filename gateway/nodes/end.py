"""`end`: end the execution now, RESOLVED (`endStatus: 1`) or FAILED (`endStatus: -1`)."""

from __future__ import annotations

from typing import Any

from gateway.core.errors import Problem
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.core.types import JSONObject, Scope
from gateway.engine.node import Finish, NodeType, Outcome
from gateway.nodes.registry import register

_END_STATUSES = {
    1: (ExecutionStatus.RESOLVED, JobStatus.RESOLVED),
    -1: (ExecutionStatus.FAILED, JobStatus.FAILED),
}


@register
class End(NodeType):
    type_name = "end"
    config_keys = frozenset({"endStatus"})
    title = "End"
    description = "End the execution with a status."
    instant = True

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.status, self.job_status = _END_STATUSES[config.get("endStatus", 1)]

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        problems = super().check(config, field)
        status = config.get("endStatus", 1) if not problems else 1
        if isinstance(status, bool) or not isinstance(status, int) or status not in _END_STATUSES:
            problems.append(Problem(f"{field}.endStatus", "must be 1 (RESOLVED) or -1 (FAILED)"))
        return problems

    async def run(self, scope: Scope) -> Outcome:
        return Finish(self.status, None, self.job_status)
