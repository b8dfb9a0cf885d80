"""Workflow documents: reading YAML/JSON files, `${NAME}` substitution, and the canonical form.

Documents arrive nested (`branches: {"1": [...]}` under a node) or flat (`upstream` +
`branchIndex`), or a mix (docs/documents.md, Nodes). `normalise` turns either into the canonical
form every other part of the service works with: defaults filled in, nodes flat and in
depth-first order, parse rules complete. `nest` turns a canonical document back into the
readable nested form for `gateway export`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from gateway.core.errors import Problem
from gateway.workflows.unknown import unknown_field

_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SUFFIXES = (".yaml", ".yml", ".json")
TEST_SUFFIXES = (".test.yaml", ".test.yml")
DEFAULT_RESPONSE: dict[str, Any] = {"statusCode": 200, "headers": [], "body": "ok"}
WORKFLOW_FIELDS = frozenset(
    {"key", "title", "description", "enabled", "sync", "options", "trigger", "nodes"}
)
TRIGGER_FIELDS = frozenset(
    {"key", "basicAuthentication", "request", "response", "signature", "deduplicate", "rateLimit"}
)
RULE_FIELDS = frozenset({"key", "alias", "var", "_var", "required", "type"})
NODE_FIELDS = frozenset(
    {"key", "type", "title", "config", "upstream", "branchIndex", "branches", "pinned"}
)
SOURCES = ("headers", "query", "body")


@dataclass(frozen=True)
class Source:
    """One document and where it came from (`file.yaml`, `file.yaml#2`, `graphql`).

    `environment` False takes the document literally: no `${NAME}` substitution, so a
    GraphQL client cannot read the server's environment and a stored text re-applied by an
    edit stays as it was."""

    origin: str
    data: Any
    environment: bool = True


_BOOL_TAG = "tag:yaml.org,2002:bool"
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DocumentLoader(_BaseLoader):  # type: ignore[misc]
    """Safe YAML with YAML 1.2 booleans: only true/false, so a node called `yes`, `no`,
    `on` or `off` stays a string (YAML 1.1 would read it as a boolean)."""


DocumentLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
DocumentLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _files(path: Path) -> list[Path]:
    """A directory's documents; workflow test files (`*.test.yaml`, docs/testing.md) beside
    them are not documents."""
    if path.is_dir():
        return sorted(
            p
            for p in path.iterdir()
            if p.suffix in _SUFFIXES and p.is_file() and not p.name.endswith(TEST_SUFFIXES)
        )
    return [path]


def read_sources(paths: list[str]) -> tuple[list[Source], list[Problem]]:
    """Every document in `paths` (files or directories; YAML may hold several documents)."""
    sources: list[Source] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            problems.append(Problem(str(path), "no such file or directory"))
            continue
        for file in _files(path):
            try:
                sources += _read_file(file)
            except (OSError, yaml.YAMLError, orjson.JSONDecodeError, UnicodeDecodeError) as exc:
                problems.append(Problem(str(file), f"cannot read: {exc}"))
    return sources, problems


def _read_file(file: Path) -> list[Source]:
    if file.suffix == ".json":
        return [Source(str(file), orjson.loads(file.read_text(encoding="utf-8")))]
    with file.open(encoding="utf-8") as stream:  # errors then name the file, line and column
        docs = [d for d in yaml.load_all(stream, Loader=DocumentLoader) if d is not None]
    if len(docs) == 1:
        return [Source(str(file), docs[0])]
    return [Source(f"{file}#{i}", d) for i, d in enumerate(docs, start=1)]


def substitute_env(
    value: Any, env: Mapping[str, str], missing: dict[str, str], field: str = ""
) -> Any:
    """`${NAME}` → the environment's value in every string, `${NAME:-default}` → the
    default when NAME is unset, `$$` → `$`. Unset names without a default are left as they
    were and collected in `missing`, each with the first field that uses it."""
    if isinstance(value, str):
        if "$" not in value:
            return value

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "$"
            if name in env:
                return env[name]
            if match.group(2) is not None:
                return match.group(2)
            missing.setdefault(name, field)
            return match.group(0)

        return _ENV_REF.sub(replace, value)
    if isinstance(value, list):
        return [
            substitute_env(item, env, missing, _item_field(field, i, item))
            for i, item in enumerate(value)
        ]
    if isinstance(value, dict):
        return {
            k: substitute_env(v, env, missing, f"{field}.{k}" if field else str(k))
            for k, v in value.items()
        }
    return value


def _item_field(field: str, index: int, item: Any) -> str:
    """Where a list item is: nodes by their key, as every node problem names them."""
    if isinstance(item, dict) and isinstance(item.get("key"), str) and "type" in item:
        return f"nodes[{item['key']}]"
    return f"{field}[{index}]"


def _unknown(data: Mapping[str, Any], allowed: frozenset[str], field: str) -> list[Problem]:
    return [
        unknown_field(f"{field}.{name}" if field else str(name), name, allowed)
        for name in data
        if name not in allowed
    ]


def normalise(data: Any) -> tuple[dict[str, Any], list[Problem]]:
    """The canonical form of a document, with the structural problems found on the way."""
    if not isinstance(data, dict):
        return {}, [Problem("", "a workflow document must be a mapping")]
    problems = _unknown(data, WORKFLOW_FIELDS, "")
    trigger, trigger_problems = _normalise_trigger(data.get("trigger"))
    nodes, node_problems = flatten_nodes(data.get("nodes"))
    doc = {
        "key": data.get("key"),
        "title": data.get("title") if data.get("title") is not None else data.get("key"),
        "description": data.get("description") or "",
        "enabled": data.get("enabled", True),
        "sync": data.get("sync", False),
        "options": data.get("options") or {},
        "trigger": trigger,
        "nodes": nodes,
    }
    return doc, problems + trigger_problems + node_problems


def _normalise_trigger(data: Any) -> tuple[dict[str, Any], list[Problem]]:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return _empty_trigger(), [Problem("trigger", "must be a mapping")]
    problems = _unknown(data, TRIGGER_FIELDS, "trigger")
    request, rule_problems = _normalise_request(data.get("request"))
    response = data.get("response")
    auth = data.get("basicAuthentication")
    trigger = {
        "key": data.get("key"),
        # NocoBase writes `false` for "no authentication".
        "basicAuthentication": None if auth is False else auth,
        "request": request,
        "response": _normalise_response(response),
    }
    for name in ("signature", "deduplicate", "rateLimit"):
        if data.get(name) is not None:
            trigger[name] = data[name]
    if response is not None and not isinstance(response, dict):
        problems.append(Problem("trigger.response", "must be a mapping"))
    return trigger, problems + rule_problems


def _empty_trigger() -> dict[str, Any]:
    return {
        "key": None,
        "basicAuthentication": None,
        "request": {s: [] for s in SOURCES},
        "response": dict(DEFAULT_RESPONSE),
    }


def _normalise_response(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        return dict(DEFAULT_RESPONSE)
    return {
        "statusCode": data.get("statusCode", 200),
        "headers": data.get("headers") or [],
        "body": data.get("body", "ok"),
        **{k: v for k, v in data.items() if k not in ("statusCode", "headers", "body")},
    }


def _normalise_request(data: Any) -> tuple[dict[str, list[dict[str, Any]]], list[Problem]]:
    request: dict[str, list[dict[str, Any]]] = {s: [] for s in SOURCES}
    if data is None:
        return request, []
    if not isinstance(data, dict):
        return request, [Problem("trigger.request", "must be a mapping of headers, query, body")]
    problems = _unknown(data, frozenset(SOURCES), "trigger.request")
    for source in SOURCES:
        items = data.get(source) or []
        field = f"trigger.request.{source}"
        if not isinstance(items, list):
            problems.append(Problem(field, "must be a list of parse rules"))
            continue
        for index, item in enumerate(items):
            rule, rule_problems = _normalise_rule(item, f"{field}[{index}]")
            problems += rule_problems
            if rule is not None:
                request[source].append(rule)
    return request, problems


def _normalise_rule(item: Any, field: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    if isinstance(item, str):
        item = {"key": item}
    if not isinstance(item, dict):
        return None, [Problem(field, "a parse rule must be a mapping with a key")]
    rule = {
        "key": item.get("key"),
        "alias": item.get("alias"),
        "var": item.get("var", item.get("_var")),  # `_var`: NocoBase's name for it
        "required": item.get("required", False),
        "type": item.get("type"),
    }
    problems = _unknown(item, RULE_FIELDS, field)
    if "var" in item and "_var" in item and item["var"] != item["_var"]:
        problems.append(Problem(f"{field}._var", "differs from var", hint="keep one of them"))
    return rule, problems


def flatten_nodes(data: Any) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Nested `branches` and flat `upstream`/`branchIndex` nodes → one flat list."""
    if data is None:
        return [], []
    if not isinstance(data, list):
        return [], [Problem("nodes", "must be a list of nodes")]
    out: list[dict[str, Any]] = []
    problems: list[Problem] = []
    _flatten(data, None, None, "nodes", out, problems)
    return out, problems


def _flatten(
    items: list[Any],
    upstream: str | None,
    branch: int | None,
    field: str,
    out: list[dict[str, Any]],
    problems: list[Problem],
) -> None:
    for index, item in enumerate(items):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            problems.append(Problem(where, "a node must be a mapping"))
            continue
        key = item.get("key")
        if isinstance(key, str) and key:
            where = f"nodes[{key}]"
        problems += _unknown(item, NODE_FIELDS, where)
        node: dict[str, Any] = {
            "key": key,
            "type": item.get("type"),
            "title": item.get("title") or "",
            "config": item.get("config") if item.get("config") is not None else {},
            "upstream": item.get("upstream", upstream) if upstream is None else upstream,
            "branchIndex": item.get("branchIndex", branch) if upstream is None else branch,
        }
        if item.get("pinned") is not None:
            node["pinned"] = item["pinned"]  # the result a test run gives it (docs/testing.md)
        out.append(node)
        _flatten_branches(item.get("branches"), node, where, out, problems)


def _flatten_branches(
    branches: Any,
    node: dict[str, Any],
    where: str,
    out: list[dict[str, Any]],
    problems: list[Problem],
) -> None:
    if branches is None:
        return
    if not isinstance(branches, dict):
        problems.append(Problem(f"{where}.branches", "must map branch indices to node lists"))
        return
    for raw_index, children in branches.items():
        try:
            index = int(raw_index)
        except (TypeError, ValueError):
            problems.append(Problem(f"{where}.branches", f"{raw_index!r} is not a branch index"))
            continue
        if not isinstance(children, list):
            problems.append(Problem(f"{where}.branches.{index}", "must be a list of nodes"))
            continue
        _flatten(children, node["key"], index, f"{where}.branches.{index}", out, problems)


def canonical_order(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Valid flat nodes in one order that depends only on the graph: depth first, each node
    followed by its branches in ascending index. Two documents that describe the same graph
    (nested or flat, branches listed in any order) come out equal, so re-applying an export
    changes nothing."""
    children: dict[tuple[str | None, int | None], list[dict[str, Any]]] = {}
    for node in nodes:
        upstream = node.get("upstream")
        branch = node.get("branchIndex") if upstream is not None else None
        children.setdefault((upstream, branch), []).append(node)
    out: list[dict[str, Any]] = []

    def walk(key: tuple[str | None, int | None]) -> None:
        for node in children.get(key, []):
            out.append(node)
            for index in sorted(i for (up, i) in children if up == node["key"] and i is not None):
                walk((node["key"], index))

    walk((None, None))
    return out


def nest(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flat canonical nodes → the nested `branches` form (docs/documents.md, Nodes)."""
    children: dict[tuple[str | None, int | None], list[dict[str, Any]]] = {}
    for node in nodes:
        upstream = node.get("upstream")
        branch = node.get("branchIndex") if upstream is not None else None
        children.setdefault((upstream, branch), []).append(node)

    def build(key: tuple[str | None, int | None]) -> list[dict[str, Any]]:
        out = []
        for node in children.get(key, []):
            item: dict[str, Any] = {"key": node["key"], "type": node["type"]}
            if node.get("title"):
                item["title"] = node["title"]
            item["config"] = node.get("config") or {}
            if node.get("pinned") is not None:
                item["pinned"] = node["pinned"]
            indices = sorted(i for (up, i) in children if up == node["key"] and i is not None)
            if indices:
                item["branches"] = {str(i): build((node["key"], i)) for i in indices}
            out.append(item)
        return out

    return build((None, None))
