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

from collections.abc import Iterable, Sequence

from strawberry.types.nodes import SelectedField, Selection

from gateway.api.context import Info
from gateway.api.types import Node, ParseRule, Trigger, Workflow
from gateway.store import lookups
from gateway.store.lookups import Row
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


async def preload_workflows(info: Info, workflows: Sequence[Workflow], *path: str) -> None:
    """Load the relations selected at `path` (the items' place below the current field,
    e.g. `edges`, `node`) for all of `workflows` at once."""
    if not workflows:
        return
    selected = [inner for field in info.selected_fields for inner in field.selections]
    ids = [w.row_id for w in workflows]
    if selects(selected, *path, "nodes"):
        nodes = _grouped(await lookups.nodes_by_workflow(ids), "workflow_id")
        for workflow in workflows:
            rows = nodes.get(workflow.row_id, [])
            workflow.preloaded_nodes = [Node.from_row(row) for row in rows]
    if not selects(selected, *path, "trigger"):
        return
    triggers = [Trigger.from_row(row) for row in await lookups.triggers_by_workflow(ids)]
    settings = info.context.settings
    for trigger in triggers:
        trigger.preloaded_url = trigger_url(settings, trigger.key)
    by_workflow = {trigger.workflow_id: trigger for trigger in triggers}
    for workflow in workflows:
        workflow.preloaded_trigger = by_workflow.get(workflow.row_id)
    if selects(selected, *path, "trigger", "parseRules"):
        trigger_ids = [trigger.row_id for trigger in triggers]
        rules = _grouped(await lookups.rules_by_trigger(trigger_ids), "trigger_id")
        for trigger in triggers:
            rows = rules.get(trigger.row_id, [])
            trigger.preloaded_rules = [ParseRule.from_row(row) for row in rows]
