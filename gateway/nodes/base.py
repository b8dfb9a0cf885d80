"""The node contract: a registry from type name to class, and what a run returns.

A node type validates its config at save time (`check`, every problem at once), is built
once per workflow version (`__init__`, where templates are compiled) and runs per execution
(`run`), returning an `Outcome` that tells the processor what happens next. Deciding is
kept apart from doing: most nodes only render templates and compute a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gateway.errors import Problem
from gateway.statuses import ExecutionStatus, JobStatus
from gateway.types import JSONObject, Scope


@dataclass(frozen=True, slots=True)
class Done:
    """The node finished; the chain goes on to the next node."""

    result: Any = None


@dataclass(frozen=True, slots=True)
class Branch:
    """Run branch `index` (if the workflow has one), then go on with the chain.

    `then` ends the execution with that status once the branch has finished normally
    (multi-conditions without a match and without `continueOnNoMatch`).
    """

    index: int
    result: Any = None
    then: ExecutionStatus | None = None
    job_status: JobStatus = JobStatus.RESOLVED


@dataclass(frozen=True, slots=True)
class Finish:
    """End the execution now with `status`; the job itself ends with `job_status`."""

    status: ExecutionStatus
    result: Any = None
    job_status: JobStatus = JobStatus.RESOLVED


@dataclass(frozen=True, slots=True)
class Respond:
    """Answer the webhook call (sync workflows) and end the execution RESOLVED."""

    status_code: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None

    @property
    def result(self) -> dict[str, Any]:
        return {"statusCode": self.status_code, "headers": dict(self.headers), "body": self.body}


Outcome = Done | Branch | Finish | Respond


class NodeType:
    """Base of every node type; subclasses register themselves with `register`."""

    type_name: ClassVar[str]
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    sync_only: ClassVar[bool] = False
    async_only: ClassVar[bool] = False

    def __init__(self, key: str, config: JSONObject) -> None:
        self.key = key
        self.config = config

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        """Every problem with `config`; `field` prefixes each problem's location."""
        if not isinstance(config, dict):
            return [Problem(field, "config must be an object")]
        return []

    @classmethod
    def branch_indices(cls, config: JSONObject) -> frozenset[int] | None:
        """The branch indices children may hang on, or None for a node without branches."""
        return None

    async def run(self, scope: Scope) -> Outcome:
        raise NotImplementedError


REGISTRY: dict[str, type[NodeType]] = {}


def register(cls: type[NodeType]) -> type[NodeType]:
    if cls.type_name in REGISTRY:
        raise ValueError(f"node type {cls.type_name!r} registered twice")
    REGISTRY[cls.type_name] = cls
    return cls


def node_type(name: str) -> type[NodeType] | None:
    return REGISTRY.get(name)


def node_types() -> Mapping[str, type[NodeType]]:
    return REGISTRY
