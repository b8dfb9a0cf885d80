"""Node types, one module each; importing this package registers them all."""

from gateway.nodes import (
    calculation,
    condition,
    delay,
    end,
    json_query,
    loop,
    multi_conditions,
    parallel,
    request,
    response,
    variable,
)
from gateway.nodes.base import REGISTRY, NodeType, node_type, node_types

__all__ = [
    "REGISTRY",
    "NodeType",
    "calculation",
    "condition",
    "delay",
    "end",
    "json_query",
    "loop",
    "multi_conditions",
    "node_type",
    "node_types",
    "parallel",
    "request",
    "response",
    "variable",
]
