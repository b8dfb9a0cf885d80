"""The trigger options `signature` and `rateLimit` (docs/security.md): save-time validation, every
problem at once, and the stored form of a signature.

Stored, a signature's `secret` is `{"encrypted": "<token>"}` (see `gateway.secrets`), so
whatever leaves out `secret` (exports, API output) leaves out the sealed form too. A
document without a secret keeps the stored one, as it does for a basic-auth password; a
document with the same secret keeps the same token, so re-applying changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gateway.core.errors import ConfigError, Problem
from gateway.core.settings import Settings
from gateway.security.rates import MAX_PER, MAX_RATE
from gateway.security.secrets import SecretBox
from gateway.security.signatures import (
    ALGORITHMS,
    ENCODINGS,
    HMAC_FIELDS,
    PRESET_FIELDS,
    default_content,
    parse_content,
    secret_problem,
)
from gateway.security.signed import MAX_TOLERANCE
from gateway.workflows.unknown import unknown_field

SIGNATURE = "trigger.signature"
RATE_LIMIT = "trigger.rateLimit"
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
MAX_PREFIX = 100
MAX_CONTENT = 1000


def option_problems(trigger: Mapping[str, Any]) -> list[Problem]:
    """Problems with a canonical trigger's `signature` and `rateLimit` options."""
    problems: list[Problem] = []
    if trigger.get("signature") is not None:
        problems += _signature_problems(trigger["signature"])
    if trigger.get("rateLimit") is not None:
        problems += _rate_limit_problems(trigger["rateLimit"])
    return problems


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _signature_problems(option: Any) -> list[Problem]:
    if not isinstance(option, dict):
        return [Problem(SIGNATURE, "must be a mapping such as {preset: github, secret: ...}")]
    preset = option.get("preset", "hmac")
    if preset not in PRESET_FIELDS:
        return [
            Problem(f"{SIGNATURE}.preset", f"unknown preset {preset!r}", hint=_names(PRESET_FIELDS))
        ]
    problems = _field_problems(option, preset)
    secret = option.get("secret")
    if secret is not None and (not isinstance(secret, str) or not secret):
        problems.append(Problem(f"{SIGNATURE}.secret", "must be non-empty text"))
    elif isinstance(secret, str) and (wrong := secret_problem(preset, secret)) is not None:
        problems.append(Problem(f"{SIGNATURE}.secret", wrong))
    if "tolerance" in option and not _is_int(option["tolerance"], 1, MAX_TOLERANCE):
        problems.append(
            Problem(f"{SIGNATURE}.tolerance", f"must be whole seconds, 1 to {MAX_TOLERANCE}")
        )
    if preset == "hmac":
        problems += _hmac_problems(option)
    return problems


def _is_header(value: Any) -> bool:
    return isinstance(value, str) and HEADER_NAME.match(value) is not None


def _names(values: Mapping[str, Any] | frozenset[str] | tuple[str, ...]) -> str:
    return ", ".join(sorted(values))


def _field_problems(option: Mapping[str, Any], preset: str) -> list[Problem]:
    allowed = PRESET_FIELDS[preset] | {"preset", "secret"}
    problems = []
    for name in option:
        if name in allowed:
            continue
        if name in HMAC_FIELDS:
            message = f"not used by the {preset} preset"
            hint = "use preset: hmac to choose the header, algorithm and encoding"
        else:
            problems.append(unknown_field(f"{SIGNATURE}.{name}", name, allowed))
            continue
        problems.append(Problem(f"{SIGNATURE}.{name}", message, hint=hint))
    return problems


def _hmac_problems(option: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if not _is_header(option.get("header")):
        problems.append(
            Problem(f"{SIGNATURE}.header", "required: a header name such as X-Signature")
        )
    stamp = option.get("timestampHeader")
    if stamp is not None and not _is_header(stamp):
        problems.append(Problem(f"{SIGNATURE}.timestampHeader", "must be a header name"))
    if option.get("algorithm", "sha256") not in ALGORITHMS:
        problems.append(Problem(f"{SIGNATURE}.algorithm", f"must be {_names(ALGORITHMS)}"))
    if option.get("encoding", "hex") not in ENCODINGS:
        problems.append(Problem(f"{SIGNATURE}.encoding", "must be hex or base64"))
    prefix = option.get("prefix")
    if prefix is not None and (not isinstance(prefix, str) or len(prefix) > MAX_PREFIX):
        problems.append(Problem(f"{SIGNATURE}.prefix", f"must be text, at most {MAX_PREFIX}"))
    if "tolerance" in option and option.get("timestampHeader") is None:
        problems.append(Problem(f"{SIGNATURE}.tolerance", "only applies with a timestampHeader"))
    delimiter = option.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or not 0 < len(delimiter) <= 10):
        problems.append(Problem(f"{SIGNATURE}.delimiter", "must be text, 1 to 10 characters"))
    return problems + _content_problems(option)


def _content_problems(option: Mapping[str, Any]) -> list[Problem]:
    field = f"{SIGNATURE}.content"
    content = option.get("content", default_content(option.get("timestampHeader")))
    if not isinstance(content, str) or len(content) > MAX_CONTENT:
        return [Problem(field, f"must be text, at most {MAX_CONTENT} characters")]
    try:
        parts = parse_content(content)
    except ValueError as exc:
        return [Problem(field, str(exc), hint="e.g. {timestamp}.{body} or {url}{body}")]
    signed = ("timestamp", "") in parts
    if signed != (option.get("timestampHeader") is not None):
        if signed:
            return [Problem(field, "{timestamp} needs a timestampHeader")]
        return [Problem(field, "must sign {timestamp}: an unsigned timestamp stops no replay")]
    return []


def _rate_limit_problems(option: Any) -> list[Problem]:
    if not isinstance(option, dict):
        return [Problem(RATE_LIMIT, "must be a mapping such as {rate: 10, per: 60, burst: 20}")]
    problems = [
        unknown_field(f"{RATE_LIMIT}.{name}", name, ("rate", "per", "burst"))
        for name in option
        if name not in ("rate", "per", "burst")
    ]
    rate = option.get("rate")
    if not _is_int(rate, 1, MAX_RATE):
        problems.append(Problem(f"{RATE_LIMIT}.rate", f"required: calls, 1 to {MAX_RATE}"))
    per = option.get("per", 1)
    if isinstance(per, bool) or not isinstance(per, int | float) or not 0 < per <= MAX_PER:
        problems.append(
            Problem(f"{RATE_LIMIT}.per", f"must be seconds, more than 0 and at most {MAX_PER}")
        )
    if "burst" in option and not _is_int(option["burst"], 1, MAX_RATE):
        problems.append(Problem(f"{RATE_LIMIT}.burst", f"must be calls, 1 to {MAX_RATE}"))
    return problems


def resolve_signature(
    wanted: Any,
    stored: Mapping[str, Any] | None,
    settings: Settings,
    problems: list[Problem],
    workflow: str,
) -> dict[str, Any] | None:
    """The stored form of a document's `signature`: its secret sealed, or the stored
    sealed secret kept when the document leaves it out."""
    if not isinstance(wanted, Mapping):
        return None  # absent, or malformed and already reported by validation
    out = {k: v for k, v in wanted.items() if k != "secret"}
    secret = wanted.get("secret")
    old = (stored or {}).get("secret")
    if secret is None:
        if old is None:
            problems.append(
                Problem(
                    f"{SIGNATURE}.secret",
                    "required",
                    workflow,
                    hint='use "${NAME}" to read it from the environment',
                )
            )
        else:
            out["secret"] = old
        return out
    if isinstance(secret, str) and secret:
        out["secret"] = _sealed(secret, old, settings, problems, workflow)
    return out


def _sealed(
    secret: str, old: Any, settings: Settings, problems: list[Problem], workflow: str
) -> Any:
    try:
        box = SecretBox.from_settings(settings)
    except ConfigError as exc:
        problems.append(Problem(f"{SIGNATURE}.secret", f"cannot be stored: {exc}", workflow))
        return None
    return old if old is not None and box.same(old, secret) else box.seal(secret)
