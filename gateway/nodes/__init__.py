"""Node types, one module each; importing this package registers them all."""

from collections.abc import Mapping
from typing import Any

from gateway.engine import plan
from gateway.engine.node import NodeType
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
from gateway.nodes.registry import REGISTRY, node_type, node_types


def compile_plan(definition: Mapping[str, Any]) -> plan.Plan:
    """The plan of a valid workflow definition, with the registered node types."""
    return plan.compile_plan(definition, REGISTRY)


__all__ = [
    "REGISTRY",
    "NodeType",
    "calculation",
    "compile_plan",
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
