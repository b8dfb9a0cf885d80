"""The node types by name: every module of `gateway.nodes` registers its class here."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.engine.node import NodeType

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
