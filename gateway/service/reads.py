"""What the adapters read: pages and batches of definitions and executions.

Every function is one query for any number of ids (what DataLoaders call), so a page of
100 workflows with their relations is a handful of queries, not hundreds. Definition rows
(workflows, triggers, parse rules, nodes) are dicts of their columns (`Row`); executions,
their requests and jobs are records with the attributes of the protocols below, so an
adapter depends on these names, never on the store's models.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from gateway.store import definitions, lookups

Row = lookups.Row
ExecutionFilter = lookups.ExecutionFilter
WorkflowFilter = lookups.WorkflowFilter


class ExecutionRecord(Protocol):
    """Read-only: the attributes an adapter may read."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def workflow_id(self) -> int: ...

    @property
    def version_id(self) -> int: ...

    @property
    def status(self) -> str: ...

    @property
    def response(self) -> Any: ...

    @property
    def error(self) -> str | None: ...

    @property
    def reason(self) -> str | None: ...

    @property
    def event_key(self) -> str | None: ...

    @property
    def attempts(self) -> int: ...

    @property
    def replay_of(self) -> uuid.UUID | None: ...

    @property
    def resume_at(self) -> datetime | None: ...

    @property
    def state(self) -> Any: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def started_at(self) -> datetime | None: ...

    @property
    def finished_at(self) -> datetime | None: ...


class RequestRecord(Protocol):
    @property
    def execution_id(self) -> Any: ...

    @property
    def context(self) -> Any: ...

    @property
    def raw_body(self) -> bytes: ...


class JobRow(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def execution_id(self) -> Any: ...

    @property
    def node_key(self) -> str: ...

    @property
    def node_type(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def result(self) -> Any: ...

    @property
    def position(self) -> Any: ...

    @property
    def tries(self) -> Any: ...

    @property
    def started_at(self) -> datetime: ...

    @property
    def finished_at(self) -> datetime | None: ...


# Definitions
workflows_page = lookups.workflows_page
count_workflows = lookups.count_workflows
workflows_by_id = lookups.workflows_by_id
workflow_by_key = lookups.workflow_by_key
triggers_by_id = lookups.triggers_by_id
triggers_by_workflow = lookups.triggers_by_workflow
rules_by_trigger = lookups.rules_by_trigger
nodes_by_workflow = lookups.nodes_by_workflow
rule_at = lookups.rule_at
node_by_key = lookups.node_by_key
version_numbers = lookups.version_numbers
documents = definitions.load_documents

# Executions
executions_page = lookups.executions_page
count_executions = lookups.count_executions
executions_by_id = lookups.executions_by_id
last_executions = lookups.last_executions
requests_by_execution = lookups.requests_by_execution
jobs_by_execution = lookups.jobs_by_execution
