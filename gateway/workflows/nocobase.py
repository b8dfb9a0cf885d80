"""NocoBase's own workflow records → gateway documents, with a report of what was converted
(`gateway import --from nocobase`; docs/nocobase.md, Importing).

The input is what NocoBase's API answers for `GET /api/workflows:list?appends[]=nodes` (or
`workflows:get`): `{"data": [record, …]}`, one record, or a list of records. A record is
NocoBase's row — `key`, `title`, `type`, `sync`, `enabled`, `current`, `config` (the
trigger), `options`, and `nodes` with numeric `id`s chained by `upstreamId` /
`downstreamId`, branch heads carrying `branchIndex`. What comes out is a gateway document
with nodes nested under their branches; each record's notes say what changed and why, and
a record that cannot be converted (another trigger type, a node the gateway does not have)
says why instead — nothing is converted silently differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gateway.core.errors import Problem
from gateway.nodes import node_type
from gateway.workflows.documents import normalise
from gateway.workflows.validation import WORKFLOW_KEY, validate

# Node types the gateway runs with NocoBase's configs, and those it does not have.
NODE_TYPES = frozenset(
    {
        "condition",
        "multi-conditions",
        "calculation",
        "request",
        "json-query",
        "end",
        "response",
        "loop",
        "parallel",
        "delay",
        "variable",
    }
)
DATABASE_NODES = frozenset({"create", "update", "destroy", "query", "aggregate", "sql"})
TRIGGER_FIELDS = ("basicAuthentication", "request", "response")
EXECUTION_STATUSES = {1: "RESOLVED", -1: "FAILED", -2: "ERROR", -3: "ABORTED", -4: "CANCELED"}
_SCOPE_BY_ID = re.compile(r"(\{\{\s*\$scopes\.)(\d+)(?=[.}\s])")


@dataclass
class Conversion:
    """One record's outcome: a `document`, or `problems` saying why not; `notes` either way."""

    key: str
    document: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def records_of(data: Any) -> list[Any]:
    """The workflow records in an API answer, a record or a list of them."""
    if isinstance(data, dict) and "data" in data:
        data = data["data"]
    return data if isinstance(data, list) else [data]


def convert(data: Any, template_env: frozenset[str] = frozenset()) -> list[Conversion]:
    """Every record of `data` converted; older versions (`current: false`) of a key that
    has a current one are skipped with a note."""
    records = records_of(data)
    current = {r.get("key") for r in records if isinstance(r, dict) and r.get("current")}
    out: list[Conversion] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            out.append(Conversion(f"#{index}", problems=[Problem("", "not a workflow record")]))
            continue
        if record.get("current") is False and record.get("key") in current:
            version = record.get("id", "?")
            out.append(
                Conversion(
                    str(record.get("key")), notes=[f"version {version} skipped: not current"]
                )
            )
            continue
        out.append(_convert(record, template_env))
    return out


def _convert(record: dict[str, Any], template_env: frozenset[str]) -> Conversion:
    result = Conversion(str(record.get("key") or record.get("id")))
    if record.get("type") != "webhook":
        kind = record.get("type")
        result.problems.append(
            Problem("type", f"a {kind!r} workflow: only webhook workflows can be imported")
        )
        return result
    nodes = _nodes(record.get("nodes") or [], result)
    if result.problems:
        return result
    document = {
        "key": _key(record, result),
        "title": record.get("title") or result.key,
        "description": record.get("description") or "",
        "enabled": bool(record.get("enabled", True)),
        "sync": bool(record.get("sync", False)),
        "options": _options(record.get("options") or {}, bool(record.get("sync")), result),
        "trigger": _trigger(record.get("config") or {}, result),
        "nodes": nodes,
    }
    canonical, problems = normalise(document)
    problems += validate(canonical, template_env) if not problems else []
    if problems:
        result.problems += problems
        return result
    result.document = document
    return result


def _key(record: dict[str, Any], result: Conversion) -> str:
    key = str(record.get("key") or "")
    if WORKFLOW_KEY.match(key):
        return key
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", str(record.get("title") or "")).strip("-.")[:100]
    slug = slug or f"workflow-{record.get('id')}"
    result.notes.append(f"key {key!r} is not a gateway key: the workflow is {slug!r}")
    result.key = slug
    return slug


def _options(options: dict[str, Any], sync: bool, result: Conversion) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in options.items():
        if name == "timeout" and isinstance(value, int) and value > 0:
            out["timeout"] = value
        elif name == "deleteExecutionOnStatus":
            keep, note = _keep_executions(value, sync)
            if keep is not None:
                out["keepExecutions"] = keep
            result.notes.append(f"options.deleteExecutionOnStatus {value}: {note}")
        elif name == "stackLimit":
            result.notes.append("options.stackLimit dropped: a webhook cannot trigger itself")
        else:
            result.notes.append(f"options.{name} dropped: the gateway has no such option")
    return out


def _keep_executions(statuses: Any, sync: bool) -> tuple[str | None, str]:
    """NocoBase deletes finished executions whose status it lists; the gateway keeps all,
    the failed ones (`failed`), or none (sync workflows only)."""
    listed = statuses if isinstance(statuses, list) else []
    deleted = {s for s in listed if s in EXECUTION_STATUSES}
    if not deleted:
        return None, "nothing deleted, as the gateway's default (keepExecutions: all)"
    if 1 not in deleted:
        return None, "kept (the gateway cannot drop failed executions but keep resolved ones)"
    if deleted == set(EXECUTION_STATUSES) and sync:
        return "none", "keepExecutions: none"
    if deleted == {1}:
        return "failed", "keepExecutions: failed"
    return "failed", "keepExecutions: failed (which keeps every failed execution)"


def _trigger(config: dict[str, Any], result: Conversion) -> dict[str, Any]:
    trigger: dict[str, Any] = {}
    for name, value in config.items():
        if name not in TRIGGER_FIELDS:
            result.notes.append(f"trigger config {name!r} dropped: the gateway has no such setting")
            continue
        trigger[name] = value
    auth = trigger.get("basicAuthentication")
    if isinstance(auth, dict) and auth.get("password"):
        variable = re.sub(r"[^A-Z0-9]+", "_", f"{result.key}_PASSWORD".upper())
        trigger["basicAuthentication"] = {**auth, "password": f"${{{variable}}}"}
        result.notes.append(
            f"the basic-auth password is read from ${variable} (a document holds no secret)"
        )
    if auth is False:
        trigger["basicAuthentication"] = None
    request = trigger.get("request")
    if isinstance(request, dict):
        trigger["request"] = {s: [_rule(r) for r in rules or []] for s, rules in request.items()}
    return trigger


def _rule(rule: Any) -> Any:
    if not isinstance(rule, dict):
        return rule
    out = {k: v for k, v in rule.items() if k != "_var"}
    if rule.get("_var") and not rule.get("var"):
        out["var"] = rule["_var"]
    return out


def _nodes(records: list[Any], result: Conversion) -> list[dict[str, Any]]:
    """NocoBase's linked node rows as nested gateway nodes."""
    rows = [r for r in records if isinstance(r, dict)]
    by_id = {r.get("id"): r for r in rows}
    keys = {r.get("id"): str(r.get("key")) for r in rows}
    for row in rows:
        kind = row.get("type")
        if kind not in NODE_TYPES:
            why = (
                "it works on NocoBase's database, which the gateway does not have"
                if kind in DATABASE_NODES
                else "the gateway has no such node type"
            )
            result.problems.append(Problem(f"nodes[{row.get('key')}].type", f"{kind!r}: {why}"))
    heads = [r for r in rows if r.get("upstreamId") is None]
    if result.problems:
        return []
    if len(heads) > 1:
        result.problems.append(Problem("nodes", "more than one node starts the workflow"))
        return []
    return _chain(heads[0] if heads else None, by_id, rows, keys, result)


def _chain(
    head: dict[str, Any] | None,
    by_id: dict[Any, dict[str, Any]],
    rows: list[dict[str, Any]],
    keys: dict[Any, str],
    result: Conversion,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[Any] = set()
    node = head
    while node is not None and node.get("id") not in seen:
        seen.add(node.get("id"))
        out.append(_node(node, by_id, rows, keys, result))
        node = by_id.get(node.get("downstreamId"))
    return out


def _node(
    row: dict[str, Any],
    by_id: dict[Any, dict[str, Any]],
    rows: list[dict[str, Any]],
    keys: dict[Any, str],
    result: Conversion,
) -> dict[str, Any]:
    config = _config(row, keys, result)
    node: dict[str, Any] = {"key": str(row.get("key")), "type": row.get("type")}
    if row.get("title"):
        node["title"] = row["title"]
    node["config"] = config
    heads = sorted(
        (
            r
            for r in rows
            if r.get("upstreamId") == row.get("id") and r.get("branchIndex") is not None
        ),
        key=lambda r: int(r["branchIndex"]),
    )
    if heads:
        node["branches"] = {
            str(h["branchIndex"]): _chain(h, by_id, rows, keys, result) for h in heads
        }
    return node


def _config(row: dict[str, Any], keys: dict[Any, str], result: Conversion) -> dict[str, Any]:
    config = dict(row.get("config") or {})
    key = row.get("key")
    cls = node_type(row["type"]) if isinstance(row.get("type"), str) else None
    allowed = cls.config_keys if cls is not None else None
    for name in [n for n in config if allowed is not None and n not in allowed]:
        del config[name]
        result.notes.append(f"nodes[{key}]: config {name!r} dropped: no such setting here")
    if row.get("type") == "calculation" and "engine" not in config:
        config["engine"] = "math.js"
        result.notes.append(f"nodes[{key}]: NocoBase's default engine, math.js, written out")
    renamed: list[str] = []

    def by_key(match: re.Match[str]) -> str:
        node_id = int(match.group(2))
        if node_id not in keys:
            return match.group(0)
        renamed.append(f"$scopes.{node_id} → $scopes.{keys[node_id]}")
        return match.group(1) + keys[node_id]

    rewritten: dict[str, Any] = _rewrite_strings(
        config, lambda text: _SCOPE_BY_ID.sub(by_key, text)
    )
    if renamed:
        result.notes.append(f"nodes[{key}]: {', '.join(dict.fromkeys(renamed))} (by node key)")
    return rewritten


def _rewrite_strings(value: Any, rewrite: Any) -> Any:
    if isinstance(value, str):
        return rewrite(value)
    if isinstance(value, list):
        return [_rewrite_strings(item, rewrite) for item in value]
    if isinstance(value, dict):
        return {k: _rewrite_strings(v, rewrite) for k, v in value.items()}
    return value
