"""Compile a workflow version's definition into a plan: a tree of ready-to-run steps.

The definition lists nodes flat, in order (docs/concepts.md, Node): a node with no
`upstream` is on the main chain; a node with `upstream: X, branchIndex: i` is on branch `i`
of node `X`. Nodes on the same chain run in the order listed. Compiling builds every node
(templates compiled once), so running a plan parses nothing. Definitions are validated
before they are stored; compiling assumes a valid one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.engine.node import NodeType

ChainKey = tuple[str | None, int | None]


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    type: str
    node: NodeType
    branches: Mapping[int, tuple[Step, ...]] = field(default_factory=dict)
    uses_run: bool = True
    """Whether the node needs its `RunContext` (control nodes): the others are run by
    `node.run(scope)` directly."""


@dataclass(frozen=True, slots=True)
class Plan:
    chain: tuple[Step, ...]
    steps: Mapping[str, Step]
    instant: bool = False
    """No node of the plan ever waits: a run cannot be timed out (it needs no timer) and
    ends before any lease renewal."""


def chain_key(node: Mapping[str, Any]) -> ChainKey:
    upstream = node.get("upstream")
    return (upstream, node.get("branchIndex") if upstream is not None else None)


def group_chains(nodes: list[dict[str, Any]]) -> dict[ChainKey, list[dict[str, Any]]]:
    """Nodes grouped by the chain they hang on, each chain in document order."""
    chains: dict[ChainKey, list[dict[str, Any]]] = {}
    for node in nodes:
        chains.setdefault(chain_key(node), []).append(node)
    return chains


def compile_plan(definition: Mapping[str, Any], types: Mapping[str, type[NodeType]]) -> Plan:
    """The plan of a valid definition, its nodes built from `types` (type name → class:
    the registry of `gateway.nodes`, which the engine does not import)."""
    nodes: list[dict[str, Any]] = list(definition.get("nodes") or [])
    chains = group_chains(nodes)
    steps: dict[str, Step] = {}

    def build(key: ChainKey) -> tuple[Step, ...]:
        return tuple(build_step(node) for node in chains.get(key, []))

    def build_step(node: dict[str, Any]) -> Step:
        cls = types.get(node["type"])
        if cls is None:
            raise ValueError(f"unknown node type {node['type']!r} in a stored definition")
        indices = {i for (upstream, i) in chains if upstream == node["key"] and i is not None}
        step = Step(
            key=node["key"],
            type=node["type"],
            node=cls(node["key"], node.get("config") or {}),
            branches={i: build((node["key"], i)) for i in sorted(indices)},
            uses_run=cls.uses_run(),
        )
        steps[step.key] = step
        return step

    chain = build((None, None))
    return Plan(chain, steps, instant=all(step.node.instant for step in steps.values()))
