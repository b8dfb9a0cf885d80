"""Tortoise models: workflows, their immutable version snapshots, triggers, parse rules,
nodes, executions and jobs.

The editable rows (workflow, trigger, parse rules, nodes) are what the API edits; every
definition change also writes a `WorkflowVersion` whose `definition` is the complete,
self-contained snapshot an execution runs, so queued executions never see later edits.

Model docstrings become table comments in migrations: keep `;` out of them (Tortoise's
SQLite migration runner splits statements on it).
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Workflow(Model):
    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=100, unique=True)
    title = fields.CharField(max_length=200, default="")
    description = fields.TextField(default="")
    enabled = fields.BooleanField(default=True)
    sync = fields.BooleanField(default=False)
    version = fields.IntField(default=1)
    options: Any = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    trigger: fields.BackwardOneToOneRelation[Trigger]
    nodes: fields.ReverseRelation[Node]

    class Meta:
        table = "workflows"


class WorkflowVersion(Model):
    id = fields.IntField(primary_key=True)
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "gateway.Workflow", related_name="versions", on_delete=fields.CASCADE
    )
    workflow_id: int
    version = fields.IntField()
    definition: Any = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "workflow_versions"
        unique_together = (("workflow", "version"),)


class Trigger(Model):
    id = fields.IntField(primary_key=True)
    workflow: fields.OneToOneRelation[Workflow] = fields.OneToOneField(
        "gateway.Workflow", related_name="trigger", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=128, unique=True)
    basic_auth_username = fields.CharField(max_length=200, null=True)
    basic_auth_password = fields.CharField(max_length=300, null=True)
    response: Any = fields.JSONField(default=dict)
    options: Any = fields.JSONField(default=dict)

    parse_rules: fields.ReverseRelation[ParseRule]

    class Meta:
        table = "triggers"


class ParseRule(Model):
    id = fields.IntField(primary_key=True)
    trigger: fields.ForeignKeyRelation[Trigger] = fields.ForeignKeyField(
        "gateway.Trigger", related_name="parse_rules", on_delete=fields.CASCADE
    )
    source = fields.CharField(max_length=10)
    key = fields.CharField(max_length=500)
    alias = fields.CharField(max_length=200, null=True)
    var = fields.CharField(max_length=200, null=True)
    required = fields.BooleanField(default=False)
    type = fields.CharField(max_length=20, null=True)
    position = fields.IntField(default=0)

    class Meta:
        table = "parse_rules"
        # A trigger's rules are read by trigger (compiling a plan, GraphQL pages); neither
        # database indexes a foreign key by itself.
        indexes = (("trigger_id", "position"),)


class Node(Model):
    id = fields.IntField(primary_key=True)
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "gateway.Workflow", related_name="nodes", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=100)
    type = fields.CharField(max_length=50)
    title = fields.CharField(max_length=200, default="")
    config: Any = fields.JSONField(default=dict)
    upstream = fields.CharField(max_length=100, null=True)
    branch_index = fields.IntField(null=True)
    position = fields.IntField(default=0)
    pinned: Any = fields.JSONField(null=True)

    class Meta:
        table = "nodes"
        unique_together = (("workflow", "key"),)


class Execution(Model):
    id = fields.UUIDField(primary_key=True)
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "gateway.Workflow", related_name="executions", on_delete=fields.CASCADE
    )
    version: fields.ForeignKeyRelation[WorkflowVersion] = fields.ForeignKeyField(
        "gateway.WorkflowVersion", related_name="executions", on_delete=fields.CASCADE
    )
    workflow_id: int
    version_id: int
    status = fields.CharField(max_length=16)
    response: Any = fields.JSONField(null=True)
    error = fields.TextField(null=True)
    reason = fields.CharField(max_length=100, null=True)
    event_key = fields.CharField(max_length=300, null=True)
    attempts = fields.IntField(default=0)
    replay_of = fields.UUIDField(null=True)
    created_at = fields.DatetimeField()
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    lease_until = fields.DatetimeField(null=True)
    resume_at = fields.DatetimeField(null=True)
    state: Any = fields.JSONField(null=True)

    class Meta:
        table = "executions"
        # Lookups by status (STARTED with an expired lease, parked QUEUED) go through
        # (status, created_at): an index per such column cost every state change two
        # more index updates (migration 0005). Lists of executions, newest first by cursor,
        # read (created_at, id) unfiltered and (workflow_id, status, created_at) filtered by
        # workflow and status (migration 0012).
        indexes = (
            ("status", "created_at"),
            ("workflow_id", "created_at"),
            ("created_at", "id"),
            ("workflow_id", "status", "created_at"),
        )


class ExecutionRequest(Model):
    """The request that started an execution (its context and raw body), never changed.

    Written with the execution, and kept out of `executions` because a row there is rewritten
    whole by every change of state (claim, finish), and on SQLite a row of a few KB fills a
    page of its own (migration 0007, docs/performance.md). The unique index on
    `execution_id` costs SQLite what a key of that column would (a one-to-one primary key
    is always a change to Tortoise's migration autodetector)."""

    id = fields.IntField(primary_key=True)
    execution: fields.OneToOneRelation[Execution] = fields.OneToOneField(
        "gateway.Execution", related_name="request", on_delete=fields.CASCADE
    )
    execution_id: Any
    context: Any = fields.JSONField()
    raw_body = fields.BinaryField()

    class Meta:
        table = "execution_requests"


class Job(Model):
    id = fields.IntField(primary_key=True)
    execution: fields.ForeignKeyRelation[Execution] = fields.ForeignKeyField(
        "gateway.Execution", related_name="jobs", on_delete=fields.CASCADE
    )
    execution_id: Any
    node_key = fields.CharField(max_length=100)
    node_type = fields.CharField(max_length=50)
    status = fields.CharField(max_length=16)
    result: Any = fields.JSONField(null=True)
    position: Any = fields.JSONField(null=True)  # loop iteration indices, outermost first
    tries: Any = fields.JSONField(null=True)  # a retrying node's tries (migration 0009)
    started_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "jobs"
        indexes = (("execution_id", "id"),)


class DedupKey(Model):
    """The first execution accepted for a rendered de-duplication key, until it expires."""

    id = fields.IntField(primary_key=True)
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "gateway.Workflow", related_name="dedup_keys", on_delete=fields.CASCADE
    )
    workflow_id: int
    key = fields.CharField(max_length=300)
    execution_id = fields.UUIDField()
    expires_at = fields.DatetimeField()
    response: Any = fields.JSONField(null=True)

    class Meta:
        table = "dedup_keys"
        unique_together = (("workflow", "key"),)


class ApiToken(Model):
    """A GraphQL bearer token, of which only the SHA-256 is stored."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, default="")
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_tokens"


class Credential(Model):
    """A named secret request nodes use to call out, encrypted with GATEWAY_SECRET_KEY."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    type = fields.CharField(max_length=20)
    secret: Any = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "credentials"


class Revision(Model):
    """A single counter bumped with every definition change, so other processes notice."""

    id = fields.IntField(primary_key=True)
    value = fields.BigIntField(default=0)

    class Meta:
        table = "revision"


class Capture(Model):
    """A capture of a workflow's calls: open until expires_at, closed_at or max_calls calls."""

    id = fields.IntField(primary_key=True)
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "gateway.Workflow", related_name="captures", on_delete=fields.CASCADE
    )
    workflow_id: int
    opened_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    closed_at = fields.DatetimeField(null=True)
    max_calls = fields.IntField()
    max_bytes = fields.IntField()
    calls_count = fields.IntField(default=0)
    bytes_count = fields.IntField(default=0)

    class Meta:
        table = "captures"
        indexes = (("workflow_id", "closed_at"),)


class CapturedCall(Model):
    """One call recorded by a capture, its secret headers redacted."""

    id = fields.IntField(primary_key=True)
    capture: fields.ForeignKeyRelation[Capture] = fields.ForeignKeyField(
        "gateway.Capture", related_name="calls", on_delete=fields.CASCADE
    )
    capture_id: int
    received_at = fields.DatetimeField()
    method = fields.CharField(max_length=16)
    path = fields.CharField(max_length=1000)
    headers: Any = fields.JSONField()
    query = fields.TextField()
    body = fields.BinaryField()
    size = fields.IntField()
    truncated = fields.BooleanField(default=False)
    answer_status = fields.IntField(null=True)

    class Meta:
        table = "captured_calls"
        indexes = (("capture_id", "id"),)


def fits(model: type[Model], field: str, value: str) -> bool:
    """Whether `value` can be stored in `field` at all. Tortoise refuses to even filter by a
    value longer than the column, so a lookup by a user-supplied key (a URL, an API
    argument) checks this first and finds nothing instead of failing."""
    max_length = getattr(model._meta.fields_map[field], "max_length", None)
    return max_length is None or len(value) <= int(max_length)
