"""Names that do not exist, reported with the name that was probably meant.

`unknown_field(field, name, allowed)` is the problem for a misspelled key
(`bdy` → `unknown field (did you mean body?)`); `context_problems` checks the first name
after `$context` in a template (`{{$context.bdy.id}}` renders null at every call).
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from typing import Any

from gateway.core.errors import Problem
from gateway.engine.templates import Reference

# What an intake puts in `$context` (docs/webhooks.md, Variables).
CONTEXT_FIELDS = frozenset({"headers", "query", "body", "method", "path", "receivedAt", "rawBody"})


def did_you_mean(name: str, allowed: Iterable[str]) -> str | None:
    """The allowed name closest to `name`, if one is close: `("bdy", {"body"})` → `body`."""
    names = sorted(allowed)
    close = get_close_matches(name, names, n=1, cutoff=0.75)
    if not close:
        lowered = {n.lower(): n for n in names}
        return lowered.get(name.lower())
    return close[0]


def unknown_field(field: str, name: Any, allowed: Iterable[str]) -> Problem:
    allowed = sorted(allowed)
    guess = did_you_mean(str(name), allowed)
    message = f"unknown field (did you mean {guess}?)" if guess else "unknown field"
    return Problem(field, message, hint=f"expected one of: {', '.join(allowed)}")


def unknown_config_keys(config: Any, allowed: frozenset[str] | None, field: str) -> list[Problem]:
    """A node config's keys that its type does not read (None: the type does not say)."""
    if allowed is None or not isinstance(config, dict):
        return []
    return [
        unknown_field(f"{field}.{name}", name, allowed) for name in config if name not in allowed
    ]


def context_problems(ref: Reference, where: str) -> list[Problem]:
    if ref.root != "$context" or not ref.path or str(ref.path[0]) in CONTEXT_FIELDS:
        return []
    name = str(ref.path[0])
    guess = did_you_mean(name, CONTEXT_FIELDS)
    return [
        Problem(
            where,
            f"{{{{{ref}}}}}: $context has no {name!r}"
            + (f" (did you mean $context.{guess}?)" if guess else ""),
            hint=f"$context holds {', '.join(sorted(CONTEXT_FIELDS))}",
        )
    ]


def _body_names(trigger: dict[str, Any]) -> set[str] | None:
    """The top-level body names the parse rules read or set (None: the trigger has no body
    rule, so nothing is known of the body)."""
    rules = (trigger.get("request") or {}).get("body") or []
    if not rules:
        return None
    names: set[str] = set()
    for rule in rules:
        key = rule.get("key") if isinstance(rule, dict) else None
        if isinstance(key, str) and key:
            names.add(key.split(".")[0].split("[")[0])
        if isinstance(rule, dict) and isinstance(rule.get("var"), str):
            names.add(rule["var"])
    return names


def body_warnings(doc: dict[str, Any], references: dict[str, list[Reference]]) -> list[Problem]:
    """`{{$context.body.NAME}}` where the body rules neither read nor set NAME but one of
    theirs is close (`repositoryNme` → `repositoryName`): likely a typo, yet it may be
    right (the sender sends more than the rules list), so a warning, not a problem. A name
    close to none is not reported: senders' bodies hold far more than rules ever list.
    `references`: where → the references found there."""
    known = _body_names(doc.get("trigger") or {})
    if known is None:
        return []
    warnings: list[Problem] = []
    for where, refs in references.items():
        for ref in refs:
            if ref.root != "$context" or len(ref.path) < 2 or ref.path[0] != "body":
                continue
            name = str(ref.path[1])
            if name in known or "" in known:
                continue
            guess = did_you_mean(name, known)
            if guess is None:
                continue
            warnings.append(
                Problem(
                    where,
                    f"{{{{{ref}}}}}: no body parse rule reads {name!r} (did you mean {guess}?)",
                    doc.get("key") if isinstance(doc.get("key"), str) else None,
                    hint="it renders null unless the sender sends it; a parse rule documents it",
                )
            )
    return warnings
