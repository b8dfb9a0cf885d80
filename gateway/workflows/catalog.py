"""The node types a workflow may use, as the API and the console show them."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.nodes import NodeType, node_types


@dataclass(frozen=True, slots=True)
class NodeKind:
    name: str
    title: str
    description: str
    branching: bool
    sync_only: bool
    async_only: bool


def _kind(node_class: type[NodeType]) -> NodeKind:
    # A type that can have branches says which (`branch_indices`); the base says none.
    overrides = [c for c in node_class.__mro__ if "branch_indices" in vars(c)]
    return NodeKind(
        name=node_class.type_name,
        title=node_class.title or node_class.type_name,
        description=node_class.description,
        branching=overrides[0] is not NodeType,
        sync_only=node_class.sync_only,
        async_only=node_class.async_only,
    )


def node_kinds() -> list[NodeKind]:
    """Every registered node type, by name."""
    return [_kind(cls) for _, cls in sorted(node_types().items())]
