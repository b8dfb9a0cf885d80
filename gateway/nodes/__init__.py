"""Node types, one module each; importing this package registers them all."""

from gateway.nodes import condition, end, multi_conditions, response
from gateway.nodes.base import REGISTRY, NodeType, node_type, node_types

__all__ = [
    "REGISTRY",
    "NodeType",
    "condition",
    "end",
    "multi_conditions",
    "node_type",
    "node_types",
    "response",
]
