"""GraphQL errors: every error the API sends carries `extensions.code`; anything unexpected is
masked (a fixed message, code `INTERNAL_SERVER_ERROR`) and logged with its traceback.

    UNAUTHENTICATED            no or unknown bearer token (HTTP 401, before anything runs)
    BAD_USER_INPUT             validation problems: `field` is the first one's path in the
                               workflow document, `problems` lists them all
                               ({field, message, workflow, hint})
    NOT_FOUND                  a mutation names an item that does not exist
    CONFLICT                   the change clashes with stored state (a key in use, an
                               execution already finished)
    SERVICE_UNAVAILABLE        the database cannot be reached; `retryAfter` seconds
    PAYLOAD_TOO_LARGE          a request body over the limit (HTTP 413, before parsing)
    UNSUPPORTED_MEDIA_TYPE     a POST whose body is not application/json (HTTP 415)
    GRAPHQL_PARSE_FAILED       the operation text is not GraphQL (or over the token limit)
    GRAPHQL_VALIDATION_FAILED  unknown field, wrong argument type, depth or alias limit
    INTERNAL_SERVER_ERROR      a bug; the details are in the server log
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from graphql.error import GraphQLSyntaxError

from gateway.core.errors import Conflict, DefinitionInvalid, NotFound, Problem, StoreUnavailable

log = logging.getLogger("gateway.api")

UNAUTHENTICATED = "UNAUTHENTICATED"
BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
CONFLICT = "CONFLICT"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
TOO_LARGE = "PAYLOAD_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL = "INTERNAL_SERVER_ERROR"
MASKED_MESSAGE = "Internal server error"


class ApiError(Exception):
    """An error with its code, raised by resolvers for what the gateway's own errors do not
    cover (a malformed id or cursor, a page too large)."""

    def __init__(self, code: str, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {"code": code, **extensions}


def bad_input(field: str, message: str, hint: str | None = None) -> ApiError:
    """BAD_USER_INPUT about one argument (`field` is the argument's name or path)."""
    problem = Problem(field, message, hint=hint)
    return ApiError(BAD_USER_INPUT, str(problem), field=field, problems=[problem.as_dict()])


def _invalid(exc: DefinitionInvalid) -> tuple[str, dict[str, Any]]:
    problems = exc.problems
    if len(problems) == 1:
        message = str(problems[0])
    else:
        message = f"{len(problems)} problems; nothing was changed: {problems[0]}; ..."
    extensions = {
        "code": BAD_USER_INPUT,
        "field": problems[0].field if problems else None,
        "problems": [p.as_dict() for p in problems],
    }
    return message, extensions


def translate(exc: BaseException | None) -> tuple[str, dict[str, Any]] | None:
    """(message, extensions) to send for an exception a resolver raised; None to mask it."""
    if isinstance(exc, ApiError):
        return exc.message, exc.extensions
    if isinstance(exc, DefinitionInvalid):
        return _invalid(exc)
    if isinstance(exc, NotFound):
        return str(exc), {"code": NOT_FOUND}
    if isinstance(exc, Conflict):
        return str(exc), {"code": CONFLICT}
    if isinstance(exc, StoreUnavailable):
        message = "the database is unavailable; try again"
        return message, {"code": SERVICE_UNAVAILABLE, "retryAfter": exc.retry_after}
    return None


def is_request_error(error: GraphQLError) -> bool:
    """An error about the operation text or its variables, found before anything ran: its
    message is graphql-core's own and safe to send."""
    if error.path is not None:
        return False
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return True
    # A variable value a scalar could not read (`Variable '$since' got invalid value …`).
    return isinstance(original, ValueError | TypeError) and error.message.startswith("Variable")


def _request_code(error: GraphQLError) -> str:
    syntax = isinstance(error, GraphQLSyntaxError) or isinstance(
        error.original_error, GraphQLSyntaxError
    )
    return PARSE_FAILED if syntax or error.message.startswith("Syntax Error") else VALIDATION_FAILED


def coded(error: GraphQLError) -> GraphQLError:
    """The error as sent: translated, kept with a code, or masked."""
    if is_request_error(error):
        extensions = {"code": _request_code(error), **(error.extensions or {})}
        message = error.message
    else:
        translated = translate(error.original_error)
        message, extensions = translated or (MASKED_MESSAGE, {"code": INTERNAL})
    return GraphQLError(
        message, error.nodes, error.source, error.positions, error.path, extensions=extensions
    )


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Log the errors that will be masked, with their tracebacks."""
    for error in errors:
        if is_request_error(error) or translate(error.original_error) is not None:
            continue
        original = error.original_error or error
        log.error(
            "GraphQL operation failed at %s: %r",
            ".".join(map(str, error.path or [])) or "(operation)",
            original,
            exc_info=(type(original), original, original.__traceback__),
        )
