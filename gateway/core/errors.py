"""Every error the gateway raises on purpose.

    GatewayError
    ├── ConfigError            settings or environment unusable; the process stops
    ├── DefinitionInvalid      a workflow document or edit fails validation (all problems at once)
    ├── NotFound               a named workflow, execution or node does not exist
    ├── Conflict               an edit clashes with stored state (duplicate key, stale id)
    ├── TemplateError          template or path text that cannot be compiled
    ├── NodeFailure            a node could not do its work while an execution ran
    ├── StoreUnavailable       the database cannot be reached; callers answer 503 + Retry-After
    └── Rejected               a webhook call refused with a 4xx; carries status and headers

Third-party errors are translated where the library is called and chained with `from`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation problem: where (`workflow`, `field` as a dotted path) and what."""

    field: str
    message: str
    workflow: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.workflow}: " if self.workflow else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}{self.field}: {self.message}{hint}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.workflow:
            out["workflow"] = self.workflow
        if self.hint:
            out["hint"] = self.hint
        return out


class GatewayError(Exception):
    """Root of the gateway's own errors."""


class ConfigError(GatewayError):
    """Settings or environment that the gateway cannot start with."""


class DefinitionInvalid(GatewayError):
    """A workflow definition failed validation; `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class NotFound(GatewayError):
    """A workflow, execution, node or parse rule that does not exist."""


class Conflict(GatewayError):
    """An edit that clashes with what is stored."""


class TemplateError(GatewayError):
    """Template or path text that cannot be compiled."""


class NodeFailure(GatewayError):
    """A node could not do its work; the job ends ERROR with this message."""


class StoreUnavailable(GatewayError):
    """The database could not be reached or did not answer in time."""

    retry_after = 5


@dataclass
class Rejected(GatewayError):
    """A webhook call refused before anything ran."""

    status: int
    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out
