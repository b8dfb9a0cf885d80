"""Apply workflow documents: validate all, plan, then write everything in one transaction.

This is the one code path for "apply a workflow document", whether it comes from
`gateway apply`, the server's start-up directory or the GraphQL API. A batch with any
problem changes nothing, and every problem is reported at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.core.errors import DefinitionInvalid, Problem
from gateway.core.settings import Settings
from gateway.security.passwords import hash_password, verify_password
from gateway.store import definitions
from gateway.store.definitions import WorkflowWrite
from gateway.workflows.compiled import snapshot
from gateway.workflows.credential_refs import missing_credentials, warn_literal_secrets
from gateway.workflows.documents import Source, canonical_order, normalise, substitute_env
from gateway.workflows.trigger_options import resolve_signature
from gateway.workflows.validation import validate, warnings

WEBHOOK_PATH = "/api/webhook:trigger/"
_METADATA = ("title", "description", "enabled")


@dataclass(frozen=True)
class Change:
    """What applying did (or, in a dry run, would do) to one workflow."""

    action: str  # create | update | unchanged | delete
    key: str
    version: int | None = None
    previous_version: int | None = None
    changed: tuple[str, ...] = ()
    trigger_key: str | None = None

    def describe(self) -> str:
        if self.action == "create":
            return f"+ create {self.key} (version {self.version})"
        if self.action == "delete":
            return f"- delete {self.key}"
        if self.action == "unchanged":
            return f"= unchanged {self.key} (version {self.version})"
        bump = (
            f"version {self.previous_version} → {self.version}"
            if self.version != self.previous_version
            else f"version {self.version}"
        )
        return f"~ update {self.key} ({bump}: {', '.join(self.changed)})"


@dataclass
class _Batch:
    documents: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def trigger_url(settings: Settings, trigger_key: str) -> str:
    return settings.public_url.rstrip("/") + WEBHOOK_PATH + trigger_key


def new_trigger_key() -> str:
    """A random URL key: 192 bits, 32 URL-safe characters."""
    return secrets.token_urlsafe(24)


def prepare(sources: list[Source], settings: Settings) -> list[dict[str, Any]]:
    """Canonical, validated documents; DefinitionInvalid with every problem otherwise."""
    batch = check_documents(sources, settings)
    if batch.problems:
        raise DefinitionInvalid(batch.problems)
    return batch.documents


def check_documents(sources: list[Source], settings: Settings) -> _Batch:
    """Every document in canonical form, with every problem found without the store."""
    batch = _Batch()
    seen: dict[str, str] = {}
    for source in sources:
        doc = _prepare_one(source, settings, batch)
        key = doc.get("key")
        if isinstance(key, str):
            if key in seen:
                batch.problems.append(Problem("key", f"also defined in {seen[key]}", workflow=key))
            seen[key] = source.origin
        batch.documents.append(doc)
    return batch


def _prepare_one(source: Source, settings: Settings, batch: _Batch) -> dict[str, Any]:
    missing: dict[str, str] = {}
    data = source.data
    if source.environment:
        data = substitute_env(data, settings.env, missing)
    doc, problems = normalise(data)
    try:
        doc = orjson.loads(orjson.dumps(doc))
    except TypeError as exc:
        problems.append(Problem("", f"holds a value that is not JSON: {exc}"))
    if doc:
        problems += validate(doc, settings.template_env)
        if not problems:
            doc["nodes"] = canonical_order(doc["nodes"])
    problems += [
        Problem(
            field,
            f"environment variable {name} is not set",
            hint="export it, or give a default: ${NAME:-value}",
        )
        for name, field in sorted(missing.items())
    ]
    key = doc.get("key") if isinstance(doc.get("key"), str) else None
    origin = source.origin
    batch.problems += [
        Problem(p.field, p.message, p.workflow or key or origin, p.hint) for p in problems
    ]
    return doc


async def apply_documents(
    sources: list[Source],
    settings: Settings,
    *,
    prune: bool = False,
    dry_run: bool = False,
) -> list[Change]:
    batch = check_documents(sources, settings)
    problems = batch.problems
    # Only documents with a usable key can be checked against the store; the others' problems
    # are already listed, and everything is reported together.
    documents = [d for d in batch.documents if _has_key(d)]
    keys = [d["key"] for d in documents]
    stored = {d["key"]: d for d in await definitions.load_documents(None if prune else keys)}
    problems += await _trigger_key_problems(documents)
    problems += await missing_credentials(documents)
    writes: list[WorkflowWrite] = []
    changes: list[Change] = []
    for doc in documents:
        write, change = _plan_one(doc, stored.get(doc["key"]), problems, settings)
        changes.append(change)
        if write is not None:
            writes.append(write)
    if problems:
        raise DefinitionInvalid(problems)
    warn_literal_secrets(documents)
    if dry_run:
        changes = [_unassigned_key(c, d) for c, d in zip(changes, documents, strict=True)]
    deletions = sorted(set(stored) - set(keys)) if prune else []
    changes += [Change("delete", key) for key in deletions]
    if not dry_run and (writes or deletions):
        await definitions.write_workflows(writes, deletions)
    return changes


def _has_key(doc: dict[str, Any]) -> bool:
    return isinstance(doc.get("key"), str) and isinstance(doc.get("trigger"), dict)


def _unassigned_key(change: Change, doc: dict[str, Any]) -> Change:
    """A dry run does not know the random key a new workflow will get."""
    if change.action == "create" and not doc["trigger"].get("key"):
        return Change(change.action, change.key, change.version, None, change.changed, None)
    return change


async def _trigger_key_problems(documents: list[dict[str, Any]]) -> list[Problem]:
    pinned = {
        d["trigger"]["key"]: d["key"] for d in documents if isinstance(d["trigger"].get("key"), str)
    }
    problems: list[Problem] = []
    owners = await definitions.trigger_keys_in_use(pinned)
    for trigger_key, owner in owners.items():
        if owner != pinned[trigger_key]:
            problems.append(
                Problem("trigger.key", f"already used by workflow {owner}", pinned[trigger_key])
            )
    pinned_list = [d["trigger"]["key"] for d in documents if d["trigger"].get("key")]
    for trigger_key in {k for k in pinned_list if pinned_list.count(k) > 1}:
        problems.append(Problem("trigger.key", "pinned by several documents", pinned[trigger_key]))
    return problems


def resolve_auth(
    wanted: Mapping[str, Any] | None,
    stored: Mapping[str, Any] | None,
    problems: list[Problem],
    workflow: str,
) -> dict[str, Any] | None:
    """The stored form (`username`, `passwordHash`) of a document's basic authentication.

    A password equal to the stored one keeps its hash; a document without a password keeps
    the stored hash (exports leave passwords out, so export → apply changes nothing).
    """
    if not isinstance(wanted, Mapping):
        return None  # absent, or malformed and already reported by validation
    password = wanted.get("password")
    old_hash = (stored or {}).get("passwordHash")
    if password is None:
        if old_hash is None:
            problems.append(
                Problem(
                    "trigger.basicAuthentication.password",
                    "required",
                    workflow,
                    hint='use "${NAME}" to read it from the environment',
                )
            )
        return {"username": wanted["username"], "passwordHash": old_hash}
    if verify_password(password, old_hash):
        return {"username": wanted["username"], "passwordHash": old_hash}
    return {"username": wanted["username"], "passwordHash": hash_password(password)}


def stored_form(
    doc: dict[str, Any], stored: dict[str, Any] | None, problems: list[Problem], settings: Settings
) -> dict[str, Any]:
    """`doc` as it will be stored: trigger key chosen, password replaced by its hash,
    signature secret encrypted."""
    old_trigger = (stored or {}).get("trigger") or {}
    trigger = dict(doc["trigger"])
    trigger["key"] = trigger.get("key") or old_trigger.get("key") or new_trigger_key()
    trigger["basicAuthentication"] = resolve_auth(
        trigger.get("basicAuthentication"),
        old_trigger.get("basicAuthentication"),
        problems,
        doc["key"],
    )
    if "signature" in trigger:
        trigger["signature"] = resolve_signature(
            trigger["signature"], old_trigger.get("signature"), settings, problems, doc["key"]
        )
    return {**doc, "trigger": trigger}


def _differences(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    changed = [name for name in _METADATA if new[name] != old[name]]
    if new["trigger"]["key"] != old["trigger"]["key"]:
        changed.append("trigger key")
    new_snap, old_snap = snapshot(new), snapshot(old)
    changed += [name for name in new_snap if new_snap[name] != old_snap.get(name)]
    return changed


def _plan_one(
    doc: dict[str, Any], stored: dict[str, Any] | None, problems: list[Problem], settings: Settings
) -> tuple[WorkflowWrite | None, Change]:
    new = stored_form(doc, stored, problems, settings)
    trigger_key = new["trigger"]["key"]
    if stored is None:
        write = WorkflowWrite(new, None, 1, snapshot(new))
        return write, Change("create", doc["key"], 1, None, (), trigger_key)
    version = stored["version"]
    changed = _differences(new, stored)
    if not changed:
        return None, Change("unchanged", doc["key"], version, version, (), trigger_key)
    bump = snapshot(new) != snapshot(stored)
    new_version = version + 1 if bump else version
    write = WorkflowWrite(new, stored["id"], new_version, snapshot(new) if bump else None)
    return write, Change("update", doc["key"], new_version, version, tuple(changed), trigger_key)


async def apply_missing(
    sources: list[Source], settings: Settings
) -> tuple[list[Change], list[str]]:
    """Apply only the documents whose workflow is not stored yet (`gateway serve --examples`,
    which `make run` uses): a workflow edited through the API is never overwritten. The
    changes made, and the keys of the workflows kept as stored."""
    batch = check_documents(sources, settings)
    if batch.problems:
        raise DefinitionInvalid(batch.problems)
    keys = [doc["key"] for doc in batch.documents]
    stored = {doc["key"] for doc in await definitions.load_documents(keys)}
    missing = [
        s for s, doc in zip(sources, batch.documents, strict=True) if doc["key"] not in stored
    ]
    changes = await apply_documents(missing, settings) if missing else []
    return changes, sorted(stored)


def document_warnings(sources: list[Source], settings: Settings) -> list[Problem]:
    """What may be a mistake in valid documents (`validation.warnings`), for the CLI to
    print after applying them."""
    batch = check_documents(sources, settings)
    if batch.problems:
        return []
    return [warning for doc in batch.documents for warning in warnings(doc)]
