"""Reads for the management API: pages of workflows and executions, batch loads by id (one
query for any number of ids, which is what the API's DataLoaders call), and where an
editable item (parse rule, node) sits in its workflow's document.

Definition rows (workflows, triggers, parse rules, nodes) are returned as dicts of their
columns (`Row`): building Tortoise models for a page of 100 workflows with their relations
took twice as long as the queries. Executions loaded by id are `ExecutionRow`s, read the
same way; pages of executions and jobs are models. No relation is ever fetched: reading one
is an explicit batch load, never a hidden query per row.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from tortoise import connections, fields
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from gateway.store.errors import translated
from gateway.store.models import (
    Execution,
    ExecutionRequest,
    Job,
    Node,
    ParseRule,
    Trigger,
    Workflow,
    WorkflowVersion,
    fits,
)
from gateway.store.rows import SQLITE_MAX_VARIABLES

Row = dict[str, Any]
"""A definition row: column name → value, converted as Tortoise's `values()` converts it."""


@dataclass(frozen=True)
class ExecutionFilter:
    workflow_id: int | None = None
    status: str | None = None
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before


# Definition rows are read with plain SQL and converted column by column as Tortoise's
# `values()` converts them (JSON decoded, booleans as bool, datetimes parsed): Tortoise's
# query building and per-value conversion took longer than the queries themselves, about
# half of a GraphQL page of 100 workflows (docs/performance.md).


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _datetime(value: Any) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def _converter(field: fields.Field[Any]) -> Callable[[Any], Any] | None:
    if isinstance(field, fields.UUIDField):
        return _uuid
    if isinstance(field, fields.JSONField):
        return _json
    if isinstance(field, fields.BooleanField):
        return bool
    if isinstance(field, fields.DatetimeField):
        return _datetime
    return None


@functools.cache
def _table(
    model: type[Model],
) -> tuple[str, list[str], list[tuple[str, Callable[[Any], Any]]]]:
    """`SELECT <columns> FROM <table>`, the columns, and the conversions they need."""
    projection = model._meta.fields_db_projection
    columns = list(projection.values())
    select = ", ".join(f'"{column}"' for column in columns)
    converters = [
        (column, converter)
        for name, column in projection.items()
        if (converter := _converter(model._meta.fields_map[name])) is not None
    ]
    return f'SELECT {select} FROM "{model._meta.db_table}"', columns, converters


async def _select(
    model: type[Model],
    column: str,
    ids: Iterable[Any],
    order: str = '"id"',
) -> list[Row]:
    """The model's rows whose `column` is one of `ids`, in `order`."""
    wanted = list(ids)
    if not wanted:
        return []
    client = connections.get("default")
    if client.capabilities.dialect != "sqlite":
        return await _query(model, f'WHERE "{column}" = ANY($1)', [wanted], order)
    rows = []
    for start in range(0, len(wanted), SQLITE_MAX_VARIABLES):
        chunk = wanted[start : start + SQLITE_MAX_VARIABLES]
        marks = ", ".join("?" * len(chunk))
        rows += await _query(model, f'WHERE "{column}" IN ({marks})', chunk, order)
    return rows if len(wanted) <= SQLITE_MAX_VARIABLES else _sorted(rows, order)


def _sorted(rows: list[Row], order: str) -> list[Row]:
    keys = [part.strip().strip('"') for part in order.split(",")]
    return sorted(rows, key=lambda row: [row[key] for key in keys])


async def _query(
    model: type[Model], where: str, values: list[Any], order: str, limit: int | None = None
) -> list[Row]:
    select, columns, converters = _table(model)
    sql = f"{select} {where} ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    client = connections.get("default")
    rows: list[Row]
    if client.capabilities.dialect == "sqlite":  # rows by position: dict(sqlite3.Row) is slow
        _, records = await client.execute_query(sql, values)
        rows = [dict(zip(columns, record)) for record in records]  # noqa: B905 (our SELECT)
    else:
        rows = await client.execute_query_dict(sql, values)
    for row in rows:
        for column, convert in converters:
            value = row[column]
            if value is not None:
                row[column] = convert(value)
    return rows


def _mark(dialect: str, number: int) -> str:
    return "?" if dialect == "sqlite" else f"${number}"


@dataclass(frozen=True)
class WorkflowFilter:
    enabled: bool | None = None
    sync: bool | None = None
    search: str | None = None
    """Case-insensitive text in the key, title or description."""


_ESCAPE = "'\\'"  # the SQL literal '\', one backslash


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own `%`, `_` and `\\` taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _workflow_conditions(where: WorkflowFilter, dialect: str) -> tuple[list[str], list[Any]]:
    conditions: list[str] = []
    values: list[Any] = []
    for column in ("enabled", "sync"):
        wanted = getattr(where, column)
        if wanted is not None:
            values.append(wanted)
            conditions.append(f'"{column}" = {_mark(dialect, len(values))}')
    if where.search:
        matches = []
        for column in ("key", "title", "description"):
            values.append(_like(where.search))
            matches.append(f'LOWER("{column}") LIKE {_mark(dialect, len(values))} ESCAPE {_ESCAPE}')
        conditions.append("(" + " OR ".join(matches) + ")")
    return conditions, values


async def workflows_page(where: WorkflowFilter, after_id: int | None, limit: int) -> list[Row]:
    """Workflows in creation order (id), after `after_id`."""
    dialect = connections.get("default").capabilities.dialect
    conditions, values = _workflow_conditions(where, dialect)
    if after_id is not None:
        values.append(after_id)
        conditions.append(f'"id" > {_mark(dialect, len(values))}')
    clause = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    async with translated("list workflows"):
        return await _query(Workflow, clause, values, '"id"', limit)


async def count_workflows(where: WorkflowFilter) -> int:
    client = connections.get("default")
    conditions, values = _workflow_conditions(where, client.capabilities.dialect)
    sql = 'SELECT COUNT(*) FROM "workflows"'
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    async with translated("count workflows"):
        _, rows = await client.execute_query(sql, values)
    return int(rows[0][0])


async def workflows_by_id(ids: Iterable[int]) -> list[Row]:
    async with translated("load workflows"):
        return await _select(Workflow, "id", ids)


async def workflow_by_key(key: str) -> Row | None:
    if not fits(Workflow, "key", key):
        return None
    async with translated("load workflow"):
        rows = await Workflow.filter(key=key).limit(1).values()
    return rows[0] if rows else None


async def triggers_by_workflow(workflow_ids: Iterable[int]) -> list[Row]:
    async with translated("load triggers"):
        return await _select(Trigger, "workflow_id", workflow_ids)


async def triggers_by_id(ids: Iterable[int]) -> list[Row]:
    async with translated("load triggers"):
        return await _select(Trigger, "id", ids)


async def rules_by_trigger(trigger_ids: Iterable[int]) -> list[Row]:
    """Parse rules of the triggers, each trigger's in document order."""
    async with translated("load parse rules"):
        return await _select(ParseRule, "trigger_id", trigger_ids, '"position", "id"')


async def nodes_by_workflow(workflow_ids: Iterable[int]) -> list[Row]:
    """Nodes of the workflows, each workflow's in document order."""
    async with translated("load nodes"):
        return await _select(Node, "workflow_id", workflow_ids, '"position", "id"')


async def parse_rule(rule_id: int) -> ParseRule | None:
    async with translated("load parse rule"):
        return await ParseRule.get_or_none(id=rule_id)


async def node(node_id: int) -> Node | None:
    async with translated("load node"):
        return await Node.get_or_none(id=node_id)


async def workflow_key(workflow_id: int) -> str | None:
    async with translated("load workflow"):
        keys = await Workflow.filter(id=workflow_id).values_list("key", flat=True)
    return str(keys[0]) if keys else None


async def trigger_workflow(trigger_id: int) -> int | None:
    """The id of the workflow a trigger belongs to."""
    async with translated("load trigger"):
        ids = await Trigger.filter(id=trigger_id).values_list("workflow_id", flat=True)
    return int(str(ids[0])) if ids else None


async def rule_location(rule_id: int) -> tuple[int, str, int] | None:
    """(workflow id, source, index among its source's rules) of a parse rule."""
    rule = await parse_rule(rule_id)
    if rule is None:
        return None
    trigger_id = getattr(rule, "trigger_id")  # noqa: B009 - Tortoise adds the column
    async with translated("load parse rules"):
        siblings = (
            await ParseRule.filter(trigger_id=trigger_id, source=rule.source)
            .order_by("position")
            .values_list("id", flat=True)
        )
        workflow_id = await trigger_workflow(trigger_id)
    if workflow_id is None:
        return None
    return workflow_id, rule.source, [int(str(i)) for i in siblings].index(rule.id)


async def rule_at(workflow_id: int, source: str, index: int) -> Row | None:
    async with translated("load parse rule"):
        rules = (
            await ParseRule.filter(trigger__workflow_id=workflow_id, source=source)
            .order_by("position")
            .offset(index)
            .limit(1)
            .values()
        )
    return rules[0] if rules else None


async def node_by_key(workflow_id: int, key: str) -> Row | None:
    if not fits(Node, "key", key):
        return None
    async with translated("load node"):
        rows = await Node.filter(workflow_id=workflow_id, key=key).limit(1).values()
    return rows[0] if rows else None


def _executions(where: ExecutionFilter) -> QuerySet[Execution]:
    query = Execution.all()
    if where.workflow_id is not None:
        query = query.filter(workflow_id=where.workflow_id)
    if where.status is not None:
        query = query.filter(status=where.status)
    if where.since is not None:
        query = query.filter(created_at__gte=where.since)
    if where.until is not None:
        query = query.filter(created_at__lt=where.until)
    return query


async def executions_page(
    where: ExecutionFilter, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Execution]:
    """Newest first; `after` is the (created at, id) of the last execution already seen."""
    query = _executions(where)
    if after is not None:
        created, last_id = after
        query = query.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=last_id))
    async with translated("list executions"):
        return await query.order_by("-created_at", "-id").limit(limit)


async def count_executions(where: ExecutionFilter) -> int:
    async with translated("count executions"):
        return await _executions(where).count()


async def last_executions(workflow_ids: Iterable[int]) -> list[Execution]:
    """Each workflow's newest execution (none for a workflow without any): one lookup per
    workflow on the (workflow_id, created_at) index."""
    wanted = [int(i) for i in workflow_ids]
    if not wanted:
        return []
    ids = ", ".join(str(i) for i in wanted)  # integers: nothing to quote
    sql = (
        'SELECT (SELECT e."id" FROM "executions" e WHERE e."workflow_id" = w."id" '
        'ORDER BY e."created_at" DESC, e."id" DESC LIMIT 1) FROM "workflows" w '
        f'WHERE w."id" IN ({ids})'
    )
    async with translated("load last executions"):
        _, rows = await connections.get("default").execute_query(sql)
        newest = [row[0] for row in rows if row[0] is not None]
        return await Execution.filter(id__in=newest) if newest else []


@dataclass(frozen=True, slots=True)
class ExecutionRow:
    """An execution's columns (what `reads.ExecutionRecord` names), read with plain SQL: the
    executions of every change a subscription sends are read by id, and building Tortoise
    models with their datetimes took most of that read (docs/performance.md)."""

    id: uuid.UUID
    status: str
    response: Any
    error: str | None
    reason: str | None
    event_key: str | None
    attempts: int
    replay_of: uuid.UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    lease_until: datetime | None
    resume_at: datetime | None
    state: Any
    version_id: int
    workflow_id: int


async def executions_by_id(ids: Iterable[uuid.UUID]) -> list[ExecutionRow]:
    async with translated("load executions"):
        rows = await _select(Execution, "id", [str(each) for each in ids])
    return [ExecutionRow(**row) for row in rows]


async def requests_by_execution(execution_ids: Iterable[uuid.UUID]) -> list[ExecutionRequest]:
    async with translated("load execution requests"):
        return await ExecutionRequest.filter(execution_id__in=list(execution_ids))


async def jobs_by_execution(execution_ids: Iterable[uuid.UUID]) -> list[Job]:
    async with translated("load jobs"):
        return await Job.filter(execution_id__in=list(execution_ids)).order_by("id")


async def version_numbers(version_ids: Iterable[int]) -> dict[int, int]:
    """Version id → the workflow version number it stores."""
    async with translated("load versions"):
        rows = await WorkflowVersion.filter(id__in=list(version_ids)).values_list("id", "version")
    return {int(str(row[0])): int(str(row[1])) for row in rows}
