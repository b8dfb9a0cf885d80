"""Output types of runs: Execution (with its request context, answer and jobs) and Job."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from gateway.api.context import Info
from gateway.api.types import Workflow, found
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.service.reads import ExecutionRecord, JobRow, RequestRecord

strawberry.enum(ExecutionStatus, description="NocoBase's execution statuses")
strawberry.enum(JobStatus, description="NocoBase's job statuses")


@strawberry.type(description="One node's run inside an execution")
class Job:
    id: strawberry.ID
    node_key: str
    node_type: str
    status: JobStatus
    result: JSON | None
    started_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: JobRow) -> Job:
        return cls(
            id=strawberry.ID(str(row.id)),
            node_key=row.node_key,
            node_type=row.node_type,
            status=JobStatus(row.status),
            result=row.result,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )


@strawberry.type(description="One run of a workflow")
class Execution:
    id: strawberry.ID
    status: ExecutionStatus
    response: JSON | None = strawberry.field(description="The answer sent: status, headers, body")
    error: str | None
    reason: str | None
    event_key: str | None
    attempts: int
    replay_of: strawberry.ID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    workflow_id: strawberry.Private[int]
    version_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: ExecutionRecord) -> Execution:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=ExecutionStatus(row.status),
            response=row.response,
            error=row.error,
            reason=row.reason,
            event_key=row.event_key,
            attempts=row.attempts,
            replay_of=strawberry.ID(str(row.replay_of)) if row.replay_of else None,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            workflow_id=row.workflow_id,
            version_id=row.version_id,
        )

    @strawberry.field
    async def workflow(self, info: Info) -> Workflow:
        return Workflow.from_row(found(await info.context.loaders.workflow.load(self.workflow_id)))

    @strawberry.field(description="The workflow version this execution ran")
    async def version(self, info: Info) -> int:
        return int(found(await info.context.loaders.version.load(self.version_id)))

    @strawberry.field(
        description="The request: method, path, headers (never authorization or cookies "
        "unless a rule names them), query, body, receivedAt"
    )
    async def context(self, info: Info) -> JSON:
        return cast(JSON, (await self._request(info)).context)

    @strawberry.field(description="The request body as text (UTF-8)")
    async def raw_body(self, info: Info) -> str:
        raw = bytes((await self._request(info)).raw_body)
        return raw.decode("utf-8", errors="replace")

    async def _request(self, info: Info) -> RequestRecord:
        return found(await info.context.loaders.request.load(uuid.UUID(str(self.id))))

    @strawberry.field(description="In the order they ran")
    async def jobs(self, info: Info) -> list[Job]:
        rows = await info.context.loaders.jobs.load(uuid.UUID(str(self.id)))
        return [Job.from_row(row) for row in rows]
