"""Export stored workflows as documents (docs/documents.md): nested nodes, trigger keys included,
secrets left out — applying an export back changes nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from gateway.store import definitions
from gateway.workflows.documents import DEFAULT_RESPONSE, nest


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"key": rule["key"]}
    for name in ("alias", "var", "type"):
        if rule.get(name) is not None:
            out[name] = rule[name]
    if rule.get("required"):
        out["required"] = True
    return out


def _trigger(trigger: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"key": trigger["key"]}
    auth = trigger.get("basicAuthentication")
    if auth:
        out["basicAuthentication"] = {"username": auth["username"]}
    request = {s: [_rule(r) for r in rules] for s, rules in trigger["request"].items() if rules}
    if request:
        out["request"] = request
    if trigger["response"] != DEFAULT_RESPONSE:
        out["response"] = trigger["response"]
    for name, value in trigger.items():
        if name not in ("key", "basicAuthentication", "request", "response"):
            out[name] = _without_secrets(value)
    return out


def _without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "secret"}
    return value


def to_export(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"key": doc["key"], "title": doc["title"]}
    if doc["description"]:
        out["description"] = doc["description"]
    out["enabled"] = doc["enabled"]
    out["sync"] = doc["sync"]
    if doc["options"]:
        out["options"] = doc["options"]
    out["trigger"] = _trigger(doc["trigger"])
    out["nodes"] = nest(doc["nodes"])
    return out


async def export_documents(keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
    return [to_export(doc) for doc in await definitions.load_documents(keys)]


def dump_yaml(documents: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True, width=100)
