"""Checks shared by several node types."""

from __future__ import annotations

from typing import Any

from gateway.engine.templates import Template, compile_template
from gateway.errors import Problem, TemplateError


def template_problems(value: Any, field: str) -> list[Problem]:
    """Problems compiling `value` as a template (SPEC §5), or none."""
    try:
        compile_template(value)
    except TemplateError as exc:
        return [Problem(field, str(exc))]
    return []


def bool_problems(config: dict[str, Any], name: str, field: str) -> list[Problem]:
    if name in config and not isinstance(config[name], bool):
        return [Problem(f"{field}.{name}", "must be true or false")]
    return []


def engine_problems(config: dict[str, Any], field: str) -> list[Problem]:
    engine = config.get("engine", "basic")
    if engine in (None, "basic"):
        return []
    if engine == "cel":
        return [
            Problem(
                f"{field}.engine",
                "the cel engine is not available in this version",
                hint="use engine: basic with a calculation",
            )
        ]
    return [Problem(f"{field}.engine", f"unknown engine {engine!r}", hint="use basic")]


def compile_optional(value: Any) -> Template:
    return compile_template(value)
