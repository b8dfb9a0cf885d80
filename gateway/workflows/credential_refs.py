"""What applying a document checks about credentials: every `{{$credentials.NAME}}` names
one that exists, and a secret written literally in a request header is pointed out."""

from __future__ import annotations

import logging
from typing import Any

from gateway.core.errors import Problem
from gateway.engine.templates import compile_template
from gateway.store import credentials
from gateway.workflows.validation import credential_names

log = logging.getLogger("gateway.workflows")
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "api-key",
        "apikey",
        "x-auth-token",
        "x-access-token",
        "private-token",
    }
)


async def missing_credentials(documents: list[dict[str, Any]]) -> list[Problem]:
    """A problem for each use of a credential that does not exist, naming it."""
    uses = {doc["key"]: credential_names(doc) for doc in documents}
    existing = await credentials.existing_names(n for names in uses.values() for n in names)
    return [
        Problem(
            field,
            f"credential {name!r} does not exist",
            workflow,
            hint=f"create it first: gateway credentials set {name} --type bearer",
        )
        for workflow, names in uses.items()
        for name, fields in names.items()
        if name not in existing
        for field in dict.fromkeys(fields)
    ]


def literal_secrets(doc: dict[str, Any]) -> list[str]:
    """`nodes[KEY].config.headers.NAME` of each request header that carries a constant
    value under a name that usually holds a secret."""
    found = []
    for node in doc.get("nodes") or []:
        config = node.get("config") if node.get("type") == "request" else None
        for header in (config or {}).get("headers") or []:
            name = str(header.get("name", "")) if isinstance(header, dict) else ""
            value = header.get("value") if isinstance(header, dict) else None
            if name.lower() in SECRET_HEADERS and value and _literal(value):
                found.append(f"nodes[{node.get('key')}].config.headers.{name}")
    return found


def _literal(value: Any) -> bool:
    template = compile_template(value)
    return not any(ref.root in ("$credentials", "$env") for ref in template.references)


def warn_literal_secrets(documents: list[dict[str, Any]]) -> None:
    for doc in documents:
        for field in literal_secrets(doc):
            log.warning(
                "workflow %s: %s holds a secret in clear (stored, exported and answered by "
                "the API as it is); store it as a credential and write {{$credentials.NAME}}",
                doc.get("key"),
                field,
            )
