"""Save-time validation of canonical workflow documents: every problem at once.

A webhook call never discovers a bad definition: anything that can be checked without a
request is checked here — field types, node configs (each node type's own `check`), the
graph (upstreams, branch indices, sync-only and async-only nodes), templates, and the nodes
and environment names that templates refer to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from gateway.core.errors import Problem, TemplateError
from gateway.engine.paths import parse_path
from gateway.engine.responses import headers_problems, status_problems
from gateway.engine.rules import TYPES
from gateway.engine.templates import Reference, compile_template, template_problems
from gateway.nodes import node_type, node_types
from gateway.workflows.dedup import dedup_problems
from gateway.workflows.retry_options import on_failure_problems, retry_problems
from gateway.workflows.trigger_options import option_problems
from gateway.workflows.unknown import (
    body_warnings,
    context_problems,
    did_you_mean,
    unknown_config_keys,
)

WORKFLOW_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
NODE_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$")
TRIGGER_KEY = re.compile(r"^[A-Za-z0-9_-]{22,128}$")
VAR_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]{0,99}$")
KEEP_EXECUTIONS = ("all", "failed", "none")
ON_WORKER_LOST = ("rerun", "error")
MAX_TIMEOUT_MS = 15 * 60 * 1000
MAX_OUTBOUND = 1000
OPTIONS = frozenset(
    {"timeout", "keepExecutions", "onWorkerLost", "retry", "onFailure", "maxOutbound"}
)


def validate(doc: dict[str, Any], allowed_env: Iterable[str] = ()) -> list[Problem]:
    """Problems with a canonical document (see `documents.normalise`)."""
    problems = _check_workflow(doc)
    problems += _check_trigger(doc["trigger"])
    problems += _check_nodes(doc["nodes"], bool(doc["sync"] is True))
    problems += _check_references(doc, frozenset(allowed_env))
    key = doc.get("key") if isinstance(doc.get("key"), str) else None
    return [Problem(p.field, p.message, key, p.hint) for p in problems]


def warnings(doc: dict[str, Any]) -> list[Problem]:
    """What may be a mistake in a valid canonical document: reported, never refused."""
    places = {"trigger.response": _references(doc["trigger"]["response"])}
    for node in doc["nodes"]:
        places[f"nodes[{node.get('key')}].config"] = _references(node.get("config"))
    return body_warnings(doc, places)


def _check_workflow(doc: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    key = doc.get("key")
    if not isinstance(key, str) or not WORKFLOW_KEY.match(key):
        shape = "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        message = f"required: {shape}" if key in (None, "") else f"{key!r} is not {shape}"
        problems.append(Problem("key", message, hint="e.g. stripe-payments"))
    for name in ("title", "description"):
        if not isinstance(doc.get(name), str):
            problems.append(Problem(name, "must be text"))
    for name in ("enabled", "sync"):
        if not isinstance(doc.get(name), bool):
            problems.append(Problem(name, "must be true or false"))
    problems += _check_options(doc.get("options"), doc.get("sync") is True)
    options = doc.get("options")
    if isinstance(options, dict):
        problems += retry_problems(options.get("retry"), doc.get("sync") is True)
        problems += on_failure_problems(options.get("onFailure"), key, doc.get("sync") is True)
    return problems


def _check_options(options: Any, sync: bool) -> list[Problem]:
    if not isinstance(options, dict):
        return [Problem("options", "must be a mapping")]
    problems = [_unknown_option(name) for name in options if name not in OPTIONS]
    timeout = options.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int)
        or not 0 < timeout <= MAX_TIMEOUT_MS
    ):
        problems.append(Problem("options.timeout", f"must be milliseconds, 1 to {MAX_TIMEOUT_MS}"))
    keep = options.get("keepExecutions", "all")
    if keep not in KEEP_EXECUTIONS:
        problems.append(Problem("options.keepExecutions", "must be all, failed or none"))
    elif keep == "none" and not sync:
        problems.append(
            Problem(
                "options.keepExecutions",
                "none is for sync workflows: an async call is stored before it is answered",
                hint="use failed to drop successful executions once they finish",
            )
        )
    if options.get("onWorkerLost", "rerun") not in ON_WORKER_LOST:
        problems.append(Problem("options.onWorkerLost", "must be rerun or error"))
    bound = options.get("maxOutbound")
    if bound is not None and (
        isinstance(bound, bool) or not isinstance(bound, int) or not 0 < bound <= MAX_OUTBOUND
    ):
        problems.append(
            Problem(
                "options.maxOutbound",
                f"must be a number of requests, 1 to {MAX_OUTBOUND}",
                hint="leave it out for no bound but GATEWAY_OUTBOUND_PER_HOST",
            )
        )
    return problems


def _unknown_option(name: Any) -> Problem:
    guess = did_you_mean(str(name), OPTIONS)
    message = f"unknown option (did you mean {guess}?)" if guess else "unknown option"
    return Problem(f"options.{name}", message, hint=", ".join(sorted(OPTIONS)))


def _check_trigger(trigger: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    key = trigger.get("key")
    if key is not None and (not isinstance(key, str) or not TRIGGER_KEY.match(key)):
        problems.append(
            Problem(
                "trigger.key",
                "must be 22 to 128 URL-safe characters (A-Z a-z 0-9 _ -)",
                hint="leave it out to keep the current key or get a random one",
            )
        )
    problems += _check_auth(trigger.get("basicAuthentication"))
    problems += dedup_problems(trigger.get("deduplicate"))
    for source, rules in trigger["request"].items():
        for index, rule in enumerate(rules):
            problems += _check_rule(rule, f"trigger.request.{source}[{index}]", source)
        problems += _check_var_shadowing(source, rules)
    problems += _check_trigger_response(trigger["response"])
    problems += option_problems(trigger)
    return problems


def _check_auth(auth: Any) -> list[Problem]:
    field = "trigger.basicAuthentication"
    if auth is None:
        return []
    if not isinstance(auth, dict):
        return [Problem(field, "must be null or {username, password}")]
    problems = [
        Problem(f"{field}.{name}", "unknown field")
        for name in auth
        if name not in ("username", "password")
    ]
    username = auth.get("username")
    if not isinstance(username, str) or not username or ":" in username:
        problems.append(Problem(f"{field}.username", "required, without ':'"))
    password = auth.get("password")
    if password is not None and (not isinstance(password, str) or not password):
        problems.append(Problem(f"{field}.password", "must be non-empty text"))
    return problems


def _whole_body(rule: dict[str, Any], source: str) -> bool:
    """`{key: "", type: json}` on the body: the body itself is JSON text (text/plain)."""
    return rule.get("key") == "" and source == "body" and rule.get("type") == "json"


def _key_problems(rule: dict[str, Any], field: str, source: str) -> list[Problem]:
    key = rule.get("key")
    if _whole_body(rule, source):
        return []
    if not isinstance(key, str) or not key:
        hint = 'the whole body is {key: "", type: json}, for a body rule' if key == "" else None
        return [Problem(f"{field}.key", "required: a path such as data.object.id", hint=hint)]
    try:
        parse_path(key)
    except TemplateError as exc:
        return [Problem(f"{field}.key", str(exc))]
    return []


def _check_rule(rule: dict[str, Any], field: str, source: str) -> list[Problem]:
    problems = _key_problems(rule, field, source)
    if rule.get("alias") is not None and not isinstance(rule["alias"], str):
        problems.append(Problem(f"{field}.alias", "must be text"))
    var = rule.get("var")
    if var is not None and (not isinstance(var, str) or not VAR_NAME.match(var)):
        problems.append(Problem(f"{field}.var", "must be a name of letters, digits, _ or $"))
    if not isinstance(rule.get("required"), bool):
        problems.append(Problem(f"{field}.required", "must be true or false"))
    if rule.get("type") is not None and rule["type"] not in TYPES:
        problems.append(Problem(f"{field}.type", f"must be one of {', '.join(TYPES)}"))
    return problems


def _check_var_shadowing(source: str, rules: list[dict[str, Any]]) -> list[Problem]:
    """A `var` is placed at the top of its source; it must not replace data a rule reads."""
    roots = set()
    for rule in rules:
        try:
            path = parse_path(rule["key"]) if isinstance(rule.get("key"), str) else ()
        except TemplateError:
            continue
        if len(path) > 1:
            roots.add(str(path[0]).lower() if source == "headers" else str(path[0]))
    return [
        Problem(
            f"trigger.request.{source}[{index}].var",
            f"{rule['var']!r} would replace {source}.{rule['var']}, which other rules read",
            hint="pick a name that is not a top-level key of the request",
        )
        for index, rule in enumerate(rules)
        if rule.get("var") in roots
    ]


def _check_trigger_response(response: dict[str, Any]) -> list[Problem]:
    field = "trigger.response"
    problems = [
        Problem(f"{field}.{name}", "unknown field")
        for name in response
        if name not in ("statusCode", "headers", "body")
    ]
    status = response.get("statusCode")
    if isinstance(status, str):
        problems.append(Problem(f"{field}.statusCode", "must be a number from 200 to 599"))
    else:
        problems += status_problems(status, f"{field}.statusCode")
    problems += headers_problems(response.get("headers"), f"{field}.headers")
    problems += template_problems(response.get("body"), f"{field}.body")
    return problems


def _check_nodes(nodes: list[dict[str, Any]], sync: bool) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, dict[str, Any]] = {}
    for index, node in enumerate(nodes):
        key = node.get("key")
        where = f"nodes[{key}]" if isinstance(key, str) and key else f"nodes[{index}]"
        if not isinstance(key, str) or not NODE_KEY.match(key):
            shape = "1-100 letters, digits, '_' or '-'"
            message = f"required: {shape}" if key in (None, "") else f"{key!r} is not {shape}"
            problems.append(Problem(f"{where}.key", message))
        elif key in seen:
            problems.append(Problem(f"{where}.key", f"duplicate node key {key!r}"))
        problems += _check_node(node, where, sync, seen)
        if isinstance(key, str):
            seen.setdefault(key, node)
    return problems


def _check_node(
    node: dict[str, Any], where: str, sync: bool, seen: dict[str, dict[str, Any]]
) -> list[Problem]:
    cls = node_type(node["type"]) if isinstance(node.get("type"), str) else None
    if cls is None:
        return [
            Problem(
                f"{where}.type",
                f"unknown node type {node.get('type')!r}",
                hint=", ".join(sorted(node_types())),
            )
        ]
    problems = cls.check(node.get("config"), f"{where}.config")
    problems += unknown_config_keys(node.get("config"), cls.config_keys, f"{where}.config")
    if cls.sync_only and not sync:
        problems.append(
            Problem(
                f"{where}.type",
                f"{cls.type_name} nodes only work in sync workflows",
                hint="`sync` defaults to false: add `sync: true` to the workflow",
            )
        )
    if cls.async_only and sync:
        problems.append(
            Problem(f"{where}.type", f"{cls.type_name} nodes only work in async workflows")
        )
    if not isinstance(node.get("title"), str):
        problems.append(Problem(f"{where}.title", "must be text"))
    return problems + _check_position(node, where, seen)


def _check_position(
    node: dict[str, Any], where: str, seen: dict[str, dict[str, Any]]
) -> list[Problem]:
    upstream, branch = node.get("upstream"), node.get("branchIndex")
    if upstream is None:
        if branch is not None:
            return [Problem(f"{where}.branchIndex", "only for nodes with an upstream")]
        return []
    parent = seen.get(upstream) if isinstance(upstream, str) else None
    if parent is None:
        return [
            Problem(
                f"{where}.upstream",
                f"{upstream!r} is not an earlier node",
                hint="list a branching node before the nodes of its branches",
            )
        ]
    cls = node_type(parent["type"]) if isinstance(parent.get("type"), str) else None
    config = parent.get("config")
    indices = cls.branch_indices(config) if cls and isinstance(config, dict) else None
    if indices is None:
        return [Problem(f"{where}.upstream", f"node {upstream!r} has no branches")]
    if isinstance(branch, bool) or branch not in indices:
        valid = ", ".join(str(i) for i in sorted(indices))
        return [Problem(f"{where}.branchIndex", f"node {upstream!r} has branches {valid}")]
    return []


def _references(value: Any) -> list[Reference]:
    try:
        return list(compile_template(value).references)
    except TemplateError:
        return []  # reported by the node's or trigger's own check


def _check_references(doc: dict[str, Any], allowed_env: frozenset[str]) -> list[Problem]:
    problems: list[Problem] = []
    trigger = doc["trigger"]
    for ref in _references(trigger["response"]):
        if ref.root in ("$jobsMapByNodeKey", "$scopes"):
            problems.append(
                Problem(
                    "trigger.response",
                    f"{ref.root} is not available when an async call is answered",
                    hint="the trigger's response may use $context, $system and $env",
                )
            )
        problems += _env_problem(ref, allowed_env, "trigger.response")
        problems += _credential_problem(ref, None, "trigger.response")
        problems += context_problems(ref, "trigger.response")
    dedup = trigger.get("deduplicate")
    for ref in _references(dedup.get("key") if isinstance(dedup, dict) else None):
        problems += context_problems(ref, "trigger.deduplicate.key")
    before = _runs_before(doc["nodes"])
    ancestors = _ancestors(doc["nodes"])
    for node in doc["nodes"]:
        where = f"nodes[{node.get('key')}].config"
        earlier = before.get(str(node.get("key")), [])
        for ref in _references(node.get("config")):
            problems += _node_ref_problem(ref, node, earlier, ancestors, where)
            problems += _env_problem(ref, allowed_env, where)
            problems += _credential_problem(ref, node, where)
            problems += context_problems(ref, where)
        problems += _link_problems(node, earlier, ancestors, _types(doc["nodes"]))
    return problems


def _types(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {n["key"]: n.get("type") for n in nodes if isinstance(n.get("key"), str)}


def _link_problems(
    node: dict[str, Any], earlier: list[Any], ancestors: dict[str, list[str]], types: dict[str, Any]
) -> list[Problem]:
    """Node keys a config names outside templates (`NodeType.earlier_nodes`), and nodes
    that park (delay) below a node whose branches repeat or run concurrently."""
    cls = node_type(node["type"]) if isinstance(node.get("type"), str) else None
    config, where = node.get("config"), f"nodes[{node.get('key')}]"
    if cls is None or not isinstance(config, dict):
        return []
    problems = [
        Problem(f"{where}.config.{name}", f"{key!r} is not a {kind or ''} node that runs earlier")
        for name, (key, kind) in cls.earlier_nodes(config).items()
        if key not in earlier or (kind is not None and types.get(key) != kind)
    ]
    parents = [node_type(str(types.get(key))) for key in ancestors.get(str(node.get("key")), [])]
    repeating = [p.type_name for p in parents if p is not None and p.repeats_branches]
    if cls.parks and repeating:
        problems.append(
            Problem(
                f"{where}.type",
                f"{cls.type_name} nodes cannot run inside a {repeating[0]} branch",
                hint="place it on the main chain or in a condition branch",
            )
        )
    return problems


def _runs_before(nodes: list[dict[str, Any]]) -> dict[str, list[str]]:
    """For each node, the nodes that have certainly run when it runs: earlier nodes of its
    own chain (with everything in their branches), its branching ancestors, and what ran
    before those — never a node of a sibling branch."""
    children: dict[tuple[Any, Any], list[str]] = {}
    for node in nodes:
        upstream = node.get("upstream")
        branch = node.get("branchIndex") if upstream is not None else None
        if isinstance(node.get("key"), str):
            children.setdefault((upstream, branch), []).append(node["key"])
    before: dict[str, list[str]] = {}

    def subtree(key: str) -> list[str]:
        """`key` and every node below it; safe on cycles (reported elsewhere)."""
        out: list[str] = []
        stack = [key]
        while stack:
            current = stack.pop()
            if current in out:
                continue
            out.append(current)
            for (upstream, _), keys in children.items():
                if upstream == current:
                    stack.extend(keys)
        return out

    def walk(chain: tuple[Any, Any], inherited: list[str]) -> None:
        seen = list(inherited)
        for key in children.get(chain, []):
            if key in before:
                continue  # a cycle or a duplicate key, reported elsewhere
            before[key] = seen
            for upstream, index in [c for c in children if c[0] == key]:
                walk((upstream, index), [*seen, key])
            seen = [*seen, *subtree(key)]

    walk((None, None), [])
    return before


def _ancestors(nodes: list[dict[str, Any]]) -> dict[str, list[str]]:
    upstream = {n.get("key"): n.get("upstream") for n in nodes if isinstance(n.get("key"), str)}
    out: dict[str, list[str]] = {}
    for key in upstream:
        chain: list[str] = []
        current = upstream.get(key)
        while isinstance(current, str) and current not in chain and len(chain) < len(upstream):
            chain.append(current)
            current = upstream.get(current)
        out[str(key)] = chain
    return out


def _node_ref_problem(
    ref: Reference,
    node: dict[str, Any],
    earlier: list[Any],
    ancestors: dict[str, list[str]],
    where: str,
) -> list[Problem]:
    if ref.root not in ("$jobsMapByNodeKey", "$scopes") or not ref.path:
        return []
    target = str(ref.path[0])
    if ref.root == "$jobsMapByNodeKey" and target not in earlier:
        return [
            Problem(
                where,
                f"{{{{$jobsMapByNodeKey.{target}}}}} does not name a node that runs earlier",
                hint=f"earlier nodes: {', '.join(dict.fromkeys(map(str, earlier))) or 'none'}",
            )
        ]
    cls = node_type(node["type"]) if isinstance(node.get("type"), str) else None
    own = [node.get("key")] if cls is not None and cls.own_scope else []
    if ref.root == "$scopes" and target not in [*ancestors.get(str(node.get("key")), []), *own]:
        return [Problem(where, f"{{{{$scopes.{target}}}}} is not a loop this node runs inside")]
    return []


def _credential_problem(ref: Reference, node: dict[str, Any] | None, where: str) -> list[Problem]:
    """`$credentials.NAME` only in a `request` node's call: nowhere its value could be
    answered, stored or compared."""
    if ref.root != "$credentials":
        return []
    if node is None or node.get("type") != "request":
        return [
            Problem(
                where,
                f"{{{{{ref}}}}}: credentials can only be used in a request node",
                hint="in its url, headers, params or data",
            )
        ]
    if len(ref.path) != 1 or not isinstance(ref.path[0], str):
        return [Problem(where, f"{{{{{ref}}}}}: write {{{{$credentials.NAME}}}}")]
    return []


def credential_names(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Credential name → the fields of `doc` that use it."""
    names: dict[str, list[str]] = {}
    for node in doc.get("nodes") or []:
        for ref in _references(node.get("config")):
            if ref.root == "$credentials" and len(ref.path) == 1:
                names.setdefault(str(ref.path[0]), []).append(f"nodes[{node.get('key')}].config")
    return names


def _env_problem(ref: Reference, allowed: frozenset[str], where: str) -> list[Problem]:
    if ref.root != "$env" or not ref.path or str(ref.path[0]) in allowed:
        return []
    name = str(ref.path[0])
    return [
        Problem(
            where,
            f"$env.{name} is not an allowed environment variable",
            hint=f"add {name} to GATEWAY_TEMPLATE_ENV",
        )
    ]
