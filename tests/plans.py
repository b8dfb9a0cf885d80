"""Node dictionaries for tests that compile plans directly (no store, no app)."""

from __future__ import annotations

from typing import Any


def node(
    key: str,
    type_: str = "test-value",
    config: Any = None,
    up: str | None = None,
    branch: int | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "type": type_,
        "config": config or {},
        "upstream": up,
        "branchIndex": branch,
    }


def value(key: str, value: Any, **place: Any) -> dict[str, Any]:
    """A `variable` node holding `value` (templates allowed)."""
    return node(key, "variable", {"value": value}, **place)
