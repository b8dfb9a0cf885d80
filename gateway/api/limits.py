"""What one GraphQL request may ask for, and the schema extensions that enforce it.

Limits: nesting depth, aliases, tokens in the operation text, request body size, page size,
and text a database can store. Parsing and validation are cached (by operation text) across
requests; the validation cache is keyed by the rule classes too, so the limiter rules are
built once here rather than per request, or the cache would never hit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    NoSchemaIntrospectionCustomRule,
    StringValueNode,
    Visitor,
    visit,
)
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)

from gateway.api.errors import bad_input
from gateway.api.shape import shape_rule

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 5000
MAX_BODY = 4 * 1024 * 1024  # bytes of one request; documents belong in variables
DEFAULT_PAGE = 20
MAX_PAGE = 100
CACHE_SIZE = 512  # distinct operation texts kept parsed and validated
# A WebSocket: operations at once (subscriptions, and anything else sent over it), and how
# long it may stay open without its connection_init (then closed with 4408).
MAX_SUBSCRIPTIONS = 10
CONNECTION_INIT_WAIT = 10

_LIMIT_RULES: tuple[type[ASTValidationRule], ...] = (shape_rule(MAX_DEPTH, MAX_ALIASES),)
_CLOSED_RULES = (*_LIMIT_RULES, NoSchemaIntrospectionCustomRule)


def _bad_text(value: Any) -> bool:
    """Whether `value` holds text a database cannot store: NUL, or lone surrogates."""
    if isinstance(value, str):
        return "\x00" in value or (not value.isascii() and _not_utf8(value))
    if isinstance(value, dict):
        return any(_bad_text(k) or _bad_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_bad_text(item) for item in value)
    return False


def _not_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.bad = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        self.bad = self.bad or _bad_text(node.value)


# Documents come from the parser cache, so the same text is the same object: the verdict on
# its literals is kept with the document (held, so its id is not reused), as many as the
# parser cache keeps, so a repeated operation's text is not walked again.
_literal_verdicts: dict[int, tuple[DocumentNode, bool]] = {}


def _bad_literals(document: DocumentNode) -> bool:
    known = _literal_verdicts.get(id(document))
    if known is None:
        literals = _Literals()
        visit(document, literals)
        if len(_literal_verdicts) >= CACHE_SIZE:
            _literal_verdicts.clear()
        known = _literal_verdicts[id(document)] = (document, literals.bad)
    return known[1]


class StorableText(SchemaExtension):
    """Refuses text a database cannot store (NUL characters — PostgreSQL has none — and
    lone surrogates) in variables and literals, before anything runs."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if (document is not None and _bad_literals(document)) or _bad_text(context.variables):
            raise bad_input("text", "must be Unicode text without NUL (\\u0000) characters")
        yield


def extensions(introspection: bool) -> list[Callable[[], SchemaExtension]]:
    """Extension factories (Strawberry builds the extensions anew for every request)."""
    rules = list(_LIMIT_RULES if introspection else _CLOSED_RULES)
    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules(rules),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        StorableText,
    ]
