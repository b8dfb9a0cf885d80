"""Workflow definitions in the database: load them as documents, write them back.

A *document* here is the canonical dict form of a workflow (docs/api.md shapes, nodes flat)
with what only the store knows added: `id`, `version`, the trigger `key` and the basic-auth
`passwordHash`. Writing replaces a workflow's trigger, parse rules and nodes with the
document's, stores a version snapshot when asked, and bumps the revision counter in the
same transaction so every process drops its cached routes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from gateway.store.errors import translated
from gateway.store.models import (
    Node,
    ParseRule,
    Revision,
    Trigger,
    Workflow,
    WorkflowVersion,
    fits,
)

SOURCES = ("headers", "query", "body")
_TRIGGER_COLUMNS = ("key", "basicAuthentication", "request", "response")


@dataclass
class WorkflowWrite:
    """One workflow to create (`workflow_id` None) or update, at `version`."""

    document: dict[str, Any]
    workflow_id: int | None
    version: int
    snapshot: dict[str, Any] | None


def _rule_doc(rule: ParseRule) -> dict[str, Any]:
    return {
        "key": rule.key,
        "alias": rule.alias,
        "var": rule.var,
        "required": rule.required,
        "type": rule.type,
    }


def _node_doc(node: Node) -> dict[str, Any]:
    doc = {
        "key": node.key,
        "type": node.type,
        "title": node.title,
        "config": node.config,
        "upstream": node.upstream,
        "branchIndex": node.branch_index,
    }
    if node.pinned is not None:
        doc["pinned"] = node.pinned
    return doc


def _trigger_doc(trigger: Trigger) -> dict[str, Any]:
    rules = sorted(trigger.parse_rules, key=lambda r: r.position)
    auth = None
    if trigger.basic_auth_username is not None:
        auth = {
            "username": trigger.basic_auth_username,
            "passwordHash": trigger.basic_auth_password,
        }
    return {
        "key": trigger.key,
        "basicAuthentication": auth,
        "request": {s: [_rule_doc(r) for r in rules if r.source == s] for s in SOURCES},
        "response": trigger.response,
        **trigger.options,
    }


def to_document(workflow: Workflow) -> dict[str, Any]:
    nodes = sorted(workflow.nodes, key=lambda n: n.position)
    return {
        "id": workflow.id,
        "version": workflow.version,
        "key": workflow.key,
        "title": workflow.title,
        "description": workflow.description,
        "enabled": workflow.enabled,
        "sync": workflow.sync,
        "options": workflow.options,
        "trigger": _trigger_doc(workflow.trigger),
        "nodes": [_node_doc(n) for n in nodes],
    }


async def load_documents(keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Stored workflows as documents, in creation order; only `keys` when given."""
    query = Workflow.all() if keys is None else Workflow.filter(key__in=list(keys))
    async with translated("load workflows"):
        rows = await query.order_by("id").prefetch_related("trigger__parse_rules", "nodes")
    return [to_document(row) for row in rows]


async def trigger_keys_in_use(keys: Iterable[str]) -> dict[str, str]:
    """Trigger key → workflow key, for the trigger keys among `keys` already taken."""
    async with translated("load trigger keys"):
        rows = await Trigger.filter(key__in=list(keys)).prefetch_related("workflow")
    return {row.key: row.workflow.key for row in rows}


async def bump_revision() -> None:
    updated = await Revision.filter(id=1).update(value=F("value") + 1)
    if not updated:
        await Revision.get_or_create(id=1, defaults={"value": 1})


async def current_revision() -> int:
    async with translated("read revision"):
        row = await Revision.filter(id=1).values_list("value", flat=True)
    return int(str(row[0])) if row else 0


async def write_workflows(writes: list[WorkflowWrite], delete_keys: Iterable[str] = ()) -> None:
    """Apply every write and deletion in one transaction, or none of them."""
    async with translated("save workflows"), in_transaction():
        deleted = list(delete_keys)
        if deleted:
            await Workflow.filter(key__in=deleted).delete()
        for write in writes:
            await _write_one(write)
        await bump_revision()


async def _write_one(write: WorkflowWrite) -> None:
    doc = write.document
    fields = {
        "key": doc["key"],
        "title": doc["title"],
        "description": doc["description"],
        "enabled": doc["enabled"],
        "sync": doc["sync"],
        "options": doc["options"],
        "version": write.version,
    }
    if write.workflow_id is None:
        workflow = await Workflow.create(**fields)
    else:
        workflow = await Workflow.get(id=write.workflow_id)
        await workflow.update_from_dict(fields).save()
    trigger = await _write_trigger(workflow, doc["trigger"])
    await _write_rules(trigger, doc["trigger"]["request"])
    await _write_nodes(workflow, doc["nodes"])
    if write.snapshot is not None:
        await WorkflowVersion.create(
            workflow=workflow, version=write.version, definition=write.snapshot
        )


async def _write_trigger(workflow: Workflow, doc: dict[str, Any]) -> Trigger:
    auth = doc.get("basicAuthentication")
    fields = {
        "key": doc["key"],
        "basic_auth_username": auth["username"] if auth else None,
        "basic_auth_password": auth["passwordHash"] if auth else None,
        "response": doc["response"],
        "options": {k: v for k, v in doc.items() if k not in _TRIGGER_COLUMNS},
    }
    trigger = await Trigger.get_or_none(workflow=workflow)
    if trigger is None:
        return await Trigger.create(workflow=workflow, **fields)
    await trigger.update_from_dict(fields).save()
    return trigger


async def _write_rules(trigger: Trigger, request: dict[str, Any]) -> None:
    wanted = [(s, rule) for s in SOURCES for rule in request.get(s) or []]
    existing = await ParseRule.filter(trigger=trigger).order_by("position")
    rows = _reused_rows(wanted, list(existing))
    for position, ((source, rule), row) in enumerate(zip(wanted, rows, strict=True)):
        fields = {"source": source, "position": position, **_rule_columns(rule)}
        if row is not None:
            await row.update_from_dict(fields).save()
        else:
            await ParseRule.create(trigger=trigger, **fields)
    kept = {row.id for row in rows if row is not None}
    surplus = [row.id for row in existing if row.id not in kept]
    if surplus:
        await ParseRule.filter(id__in=surplus).delete()


def _reused_rows(
    wanted: list[tuple[str, dict[str, Any]]], free: list[ParseRule]
) -> list[ParseRule | None]:
    """The stored row each wanted rule is written to, so that a rule keeps its id (the API
    edits rules by id): the row with the same source and key, else a row no rule kept (an
    edited key), else none (a new row)."""
    rows: list[ParseRule | None] = []
    for source, rule in wanted:
        row = next((r for r in free if (r.source, r.key) == (source, rule["key"])), None)
        if row is not None:
            free.remove(row)
        rows.append(row)
    return [row if row is not None or not free else free.pop(0) for row in rows]


def _rule_columns(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": rule["key"],
        "alias": rule.get("alias"),
        "var": rule.get("var"),
        "required": bool(rule.get("required", False)),
        "type": rule.get("type"),
    }


async def _write_nodes(workflow: Workflow, nodes: list[dict[str, Any]]) -> None:
    existing = {row.key: row for row in await Node.filter(workflow=workflow)}
    wanted = {node["key"] for node in nodes}
    # A renamed node keeps its row (and id): a new key takes a row whose key is gone.
    free = [row for key, row in existing.items() if key not in wanted]
    for position, node in enumerate(nodes):
        fields = {
            "key": node["key"],
            "type": node["type"],
            "title": node.get("title") or "",
            "config": node.get("config") or {},
            "upstream": node.get("upstream"),
            "branch_index": node.get("branchIndex"),
            "position": position,
            "pinned": node.get("pinned"),
        }
        row = existing.pop(node["key"], None)
        if row is None and free:
            row = existing.pop(free.pop(0).key)
        if row is None:
            await Node.create(workflow=workflow, **fields)
        else:
            await row.update_from_dict(fields).save()
    if existing:
        await Node.filter(id__in=[row.id for row in existing.values()]).delete()


async def load_version(version_id: int) -> tuple[int, str, dict[str, Any]] | None:
    """(workflow id, workflow key, definition) of one stored snapshot."""
    async with translated("load workflow version"):
        row = await WorkflowVersion.get_or_none(id=version_id).prefetch_related("workflow")
    if row is None:
        return None
    return row.workflow.id, row.workflow.key, row.definition


@dataclass(frozen=True)
class TriggerTarget:
    workflow_id: int
    workflow_key: str
    enabled: bool
    version_id: int
    definition: dict[str, Any]


def trigger_key_fits(key: str) -> bool:
    """Whether `key` could be a stored trigger key at all (not longer than the column)."""
    return fits(Trigger, "key", key)


async def find_trigger(key: str) -> TriggerTarget | None:
    """The workflow behind a trigger key and its current version, or None."""
    if not fits(Trigger, "key", key):
        return None
    async with translated("find trigger"):
        trigger = await Trigger.get_or_none(key=key).prefetch_related("workflow")
        if trigger is None:
            return None
        workflow = trigger.workflow
        version = await WorkflowVersion.get_or_none(workflow=workflow, version=workflow.version)
    if version is None:
        return None
    return TriggerTarget(
        workflow.id, workflow.key, workflow.enabled, version.id, version.definition
    )
