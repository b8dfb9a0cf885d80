"""Type aliases shared across the package."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

JSON: TypeAlias = dict[str, Any] | list[Any] | str | int | float | bool | None
JSONObject: TypeAlias = dict[str, Any]
Scope: TypeAlias = Mapping[str, Any]
"""What templates render against: the roots `$context`, `$jobsMapByNodeKey`, `$scopes`,
`$system` and `$env`, keyed by their names including the `$`."""
