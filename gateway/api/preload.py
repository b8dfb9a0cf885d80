"""Eager loading for a page of workflows: what the query selects under `edges.node`
(trigger, its parse rules, nodes) is read in one query per relation before any field is
resolved, and handed to the items.

The DataLoaders would read the same rows with the same number of queries, but each item's
relation would then be an awaitable, and graphql-core's awaitable path (a task and a gather
per item and relation) cost more than the queries: on a page of 100 workflows with trigger,
parse rules and nodes it was half of the answer's time (docs/performance.md). Preloaded
relations are plain values; anything not preloaded still goes through the loaders.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence

from strawberry.types.nodes import SelectedField, Selection

from gateway.api.context import Info
from gateway.api.relations import Relations
from gateway.api.types import Node, ParseRule, Trigger, Workflow
from gateway.core.settings import Settings
from gateway.service import reads
from gateway.service.reads import Row
from gateway.workflows.apply import trigger_url


def selects(selections: Iterable[Selection], *path: str) -> bool:
    """Whether the selection set asks for the field at `path` (GraphQL names), looking
    through fragments. A field under @skip/@include counts as asked for: loading it anyway
    costs one query, never a wrong answer."""
    if not path:
        return True
    name, rest = path[0], path[1:]
    for selection in selections:
        if not isinstance(selection, SelectedField):  # a fragment: look inside
            found = selects(selection.selections, *path)
        else:
            found = selection.name == name and selects(selection.selections, *rest)
        if found:
            return True
    return False


def _grouped(rows: Iterable[Row], column: str) -> dict[int, list[Row]]:
    groups: dict[int, list[Row]] = {}
    for row in rows:
        groups.setdefault(row[column], []).append(row)
    return groups


Entries = list[tuple[Workflow, Relations]]


async def preload_workflows(info: Info, workflows: Sequence[Workflow], *path: str) -> None:
    """Load the relations selected at `path` (the items' place below the current field,
    e.g. `edges`, `node`) for all of `workflows` at once: what the relation cache does not
    hold, in one query per relation."""
    if not workflows:
        return
    selected = [inner for field in info.selected_fields for inner in field.selections]
    cache = info.context.relations
    entries = [(workflow, cache.entry(workflow)) for workflow in workflows]
    if selects(selected, *path, "nodes"):
        await _nodes(entries)
    if selects(selected, *path, "trigger"):
        triggers = await _triggers(entries, info.context.settings)
        if selects(selected, *path, "trigger", "parseRules"):
            await _rules(triggers)


async def _groups(
    parent_ids: list[int], load: Callable[[list[int]], Awaitable[list[Row]]], column: str
) -> dict[int, list[Row]]:
    """The rows of the parents the cache does not hold yet, in one query, by parent."""
    return _grouped(await load(parent_ids), column) if parent_ids else {}


async def _nodes(entries: Entries) -> None:
    unread = [w.row_id for w, entry in entries if entry.nodes is None]
    read = await _groups(unread, reads.nodes_by_workflow, "workflow_id")
    for workflow, entry in entries:
        if entry.nodes is None:
            entry.nodes = read.get(workflow.row_id, [])
        workflow.preloaded_nodes = [Node.from_row(row) for row in entry.nodes]


async def _triggers(entries: Entries, settings: Settings) -> list[tuple[Trigger, Relations]]:
    unread = [w.row_id for w, entry in entries if not entry.trigger_read]
    if unread:
        rows = await reads.triggers_by_workflow(unread)
        by_workflow = {row["workflow_id"]: row for row in rows}
        for workflow, entry in entries:
            if not entry.trigger_read:
                entry.trigger, entry.trigger_read = by_workflow.get(workflow.row_id), True
    triggers = []
    for workflow, entry in entries:
        if entry.trigger is not None:
            trigger = Trigger.from_row(entry.trigger)
            trigger.preloaded_url = trigger_url(settings, trigger.key)
            workflow.preloaded_trigger = trigger
            triggers.append((trigger, entry))
    return triggers


async def _rules(triggers: list[tuple[Trigger, Relations]]) -> None:
    unread = [trigger.row_id for trigger, entry in triggers if entry.rules is None]
    read = await _groups(unread, reads.rules_by_trigger, "trigger_id")
    for trigger, entry in triggers:
        if entry.rules is None:
            entry.rules = read.get(trigger.row_id, [])
        trigger.preloaded_rules = [ParseRule.from_row(row) for row in entry.rules]
