"""Single-item edits of a stored workflow — its fields, trigger, one parse rule, one node —
made the way `gateway apply` makes every change.

Each edit loads the stored workflow, turns it into an input document (the export form: the
basic-auth password and signature secret left out, so the stored ones are kept), changes the
one item and applies the document with `apply_documents`. Validation, the version bump and
snapshot, and the trigger key rules are therefore the same as for a whole document, and a
problem anywhere is reported with its field in the document (`trigger.request.body[2].type`,
`nodes[check].config.calculation`).

Edits are last-writer-wins: two editors changing the same workflow at once each apply their
own whole document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.core.errors import Conflict, DefinitionInvalid, NotFound, Problem
from gateway.core.settings import Settings
from gateway.store import definitions, lookups
from gateway.workflows.apply import Change, apply_documents, new_trigger_key
from gateway.workflows.documents import Source
from gateway.workflows.export import to_export

ORIGIN = "graphql"


@dataclass(frozen=True)
class Edited:
    """What an edit applied: the workflow's id, its change, and where the edited item is."""

    workflow_id: int
    change: Change
    source: str | None = None  # parse rules: their source and index in it
    index: int | None = None
    node_key: str | None = None


def input_document(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored workflow as a document to apply again: applying it unchanged changes nothing."""
    doc = to_export(stored)
    doc["nodes"] = [dict(node) for node in stored["nodes"]]
    return doc


async def load(workflow_id: int) -> dict[str, Any]:
    """The stored document of a workflow; NotFound when there is none."""
    key = await lookups.workflow_key(workflow_id)
    found = await definitions.load_documents([key]) if key is not None else []
    if not found:
        raise NotFound(f"no workflow with id {workflow_id}")
    return found[0]


async def apply_one(doc: dict[str, Any], settings: Settings) -> Change:
    [change] = await apply_documents([Source(ORIGIN, doc, environment=False)], settings)
    return change


ItemChange = Callable[..., dict[str, Any] | None]


async def _edit(workflow_id: int, settings: Settings, change: ItemChange, *args: Any) -> Edited:
    """Load, change with `change(doc, *args)` (which returns the item's location), apply."""
    doc = input_document(await load(workflow_id))
    where = change(doc, *args) or {}
    return Edited(workflow_id, await apply_one(doc, settings), **where)


# --- workflow and trigger ---------------------------------------------------------------


async def create_workflow(doc: dict[str, Any], settings: Settings) -> Change:
    """Apply a new workflow's document; Conflict when its key is taken (apply would update)."""
    key = doc.get("key")
    if isinstance(key, str) and await lookups.workflow_by_key(key) is not None:
        raise Conflict(f"a workflow with key {key!r} exists: use updateWorkflow to change it")
    return await apply_one(doc, settings)


def _update_fields(doc: dict[str, Any], fields: dict[str, Any]) -> None:
    if "key" in fields and fields["key"] != doc["key"]:
        raise DefinitionInvalid(
            [
                Problem(
                    "key",
                    "a workflow's key cannot be changed: it is its identity in documents",
                    doc["key"],
                    hint="create a workflow with the new key and delete this one",
                )
            ]
        )
    doc.update(fields)


async def update_workflow(workflow_id: int, fields: dict[str, Any], settings: Settings) -> Edited:
    """Replace the given top-level fields; `trigger` and `nodes` are replaced whole."""
    return await _edit(workflow_id, settings, _update_fields, fields)


def _update_trigger(doc: dict[str, Any], fields: dict[str, Any]) -> None:
    trigger = doc["trigger"]
    for name in ("request", "response"):  # one level deeper: a given source, a given field
        if isinstance(fields.get(name), dict) and isinstance(trigger.get(name), dict):
            fields = {**fields, name: {**trigger[name], **fields[name]}}
    trigger.update(fields)


async def update_trigger(workflow_id: int, fields: dict[str, Any], settings: Settings) -> Edited:
    """Replace the given trigger fields, keeping the others; in `request` and `response`,
    replace the given sources' rule lists and the given response fields."""
    return await _edit(workflow_id, settings, _update_trigger, fields)


def _new_key(doc: dict[str, Any]) -> None:
    doc["trigger"]["key"] = new_trigger_key()


async def regenerate_trigger_key(workflow_id: int, settings: Settings) -> Edited:
    return await _edit(workflow_id, settings, _new_key)


async def delete_workflow(workflow_id: int) -> str:
    """Delete a workflow and its executions; returns its key."""
    key = await lookups.workflow_key(workflow_id)
    if key is None:
        raise NotFound(f"no workflow with id {workflow_id}")
    await definitions.write_workflows([], [key])
    return key


# --- parse rules ------------------------------------------------------------------------


def _rules(doc: dict[str, Any], source: str) -> list[dict[str, Any]]:
    request = doc["trigger"].setdefault("request", {})
    rules: list[dict[str, Any]] = request.setdefault(source, [])
    return rules


def _place(items: list[Any], item: Any, position: int | None) -> int:
    """Insert `item` at `position` (clamped; None: the end); returns where it went."""
    index = len(items) if position is None else max(0, min(position, len(items)))
    items.insert(index, item)
    return index


def _add_rule(
    doc: dict[str, Any], source: str, rule: dict[str, Any], position: int | None
) -> dict[str, Any]:
    return {"source": source, "index": _place(_rules(doc, source), rule, position)}


async def create_parse_rule(
    trigger_id: int,
    source: str,
    rule: dict[str, Any],
    position: int | None,
    settings: Settings,
) -> Edited:
    """Add a rule to the trigger's `source` list, at `position` (default: the end)."""
    workflow_id = await lookups.trigger_workflow(trigger_id)
    if workflow_id is None:
        raise NotFound(f"no trigger with id {trigger_id}")
    return await _edit(workflow_id, settings, _add_rule, source, rule, position)


def _change_rule(
    doc: dict[str, Any], at: tuple[str, int], fields: dict[str, Any], position: int | None
) -> dict[str, Any]:
    source, index = at
    rule = {**_rules(doc, source).pop(index), **fields}
    target = rule.pop("source", None) or source
    if position is None and target == source:
        position = index
    return _add_rule(doc, target, rule, position)


async def _rule(rule_id: int) -> tuple[int, str, int]:
    location = await lookups.rule_location(rule_id)
    if location is None:
        raise NotFound(f"no parse rule with id {rule_id}")
    return location


async def update_parse_rule(
    rule_id: int, fields: dict[str, Any], position: int | None, settings: Settings
) -> Edited:
    """Change the given fields; a new `source` moves the rule to the end of that list."""
    workflow_id, source, index = await _rule(rule_id)
    return await _edit(workflow_id, settings, _change_rule, (source, index), fields, position)


def _remove_rule(doc: dict[str, Any], source: str, index: int) -> None:
    _rules(doc, source).pop(index)


async def delete_parse_rule(rule_id: int, settings: Settings) -> Edited:
    workflow_id, source, index = await _rule(rule_id)
    return await _edit(workflow_id, settings, _remove_rule, source, index)


# --- nodes ------------------------------------------------------------------------------


def _chain(nodes: list[dict[str, Any]], upstream: Any, branch: Any) -> list[int]:
    """Indices in `nodes` of the chain hanging at (upstream, branch), in order."""
    if upstream is None:
        branch = None
    return [
        i
        for i, node in enumerate(nodes)
        if node.get("upstream") == upstream
        and (upstream is None or node.get("branchIndex") == branch)
    ]


def _insert_node(nodes: list[dict[str, Any]], node: dict[str, Any], position: int | None) -> None:
    """Put `node` at `position` in its chain (None: the end). The flat list only needs a
    node after its upstream and in chain order: applying puts it in canonical order."""
    chain = _chain(nodes, node.get("upstream"), node.get("branchIndex"))
    if position is None or position >= len(chain):
        nodes.append(node)
    else:
        nodes.insert(chain[max(position, 0)], node)


def _add_node(doc: dict[str, Any], node: dict[str, Any], position: int | None) -> dict[str, Any]:
    _insert_node(doc["nodes"], node, position)
    return {"node_key": node.get("key")}


async def create_node(
    workflow_id: int, node: dict[str, Any], position: int | None, settings: Settings
) -> Edited:
    """Add a node to the chain its `upstream`/`branchIndex` name (default: the main chain)."""
    return await _edit(workflow_id, settings, _add_node, node, position)


def _node_index(doc: dict[str, Any], key: str) -> int:
    for index, node in enumerate(doc["nodes"]):
        if node["key"] == key:
            return index
    raise NotFound(f"no node {key!r}")


def _change_node(
    doc: dict[str, Any], key: str, fields: dict[str, Any], position: int | None
) -> dict[str, Any]:
    nodes = doc["nodes"]
    index = _node_index(doc, key)
    old = nodes.pop(index)
    node = {**old, **fields}
    if node.get("upstream") is None:
        node["branchIndex"] = None
    moved = (node.get("upstream"), node.get("branchIndex")) != (
        old.get("upstream"),
        old.get("branchIndex"),
    )
    if moved or position is not None:
        _insert_node(nodes, node, position)
    else:
        nodes.insert(index, node)
    if node.get("key") != key:  # renamed: its branches follow it
        for child in nodes:
            if child.get("upstream") == key:
                child["upstream"] = node.get("key")
    return {"node_key": node.get("key")}


async def _node(node_id: int) -> tuple[int, str]:
    row = await lookups.node(node_id)
    if row is None:
        raise NotFound(f"no node with id {node_id}")
    return getattr(row, "workflow_id"), row.key  # noqa: B009 - Tortoise adds the column


async def update_node(
    node_id: int, fields: dict[str, Any], position: int | None, settings: Settings
) -> Edited:
    """Change the given fields. A new upstream/branch moves the node (with its branches) to
    the end of that chain, or to `position` in it; a new key is followed by its branches."""
    workflow_id, key = await _node(node_id)
    return await _edit(workflow_id, settings, _change_node, key, fields, position)


def _remove_node(doc: dict[str, Any], key: str) -> None:
    gone = {key}
    for node in doc["nodes"]:  # flat lists put a node after its upstream
        if node.get("upstream") in gone:
            gone.add(node["key"])
    doc["nodes"] = [node for node in doc["nodes"] if node["key"] not in gone]


async def delete_node(node_id: int, settings: Settings) -> Edited:
    """Delete a node and every node in its branches (its chain closes up behind it)."""
    workflow_id, key = await _node(node_id)
    return await _edit(workflow_id, settings, _remove_node, key)
