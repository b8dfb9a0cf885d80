"""The rows behind a listed workflow's trigger, parse rules and nodes, kept across requests
for `preload.preload_workflows`."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Protocol

from gateway.service.reads import Row


class Listed(Protocol):
    """A listed workflow, as far as the cache keys it."""

    @property
    def row_id(self) -> int: ...

    @property
    def version(self) -> int: ...

    @property
    def updated_at(self) -> datetime: ...


class Relations:
    """One stored state of one workflow's relations, filled as queries ask for them."""

    __slots__ = ("nodes", "rules", "trigger", "trigger_read")

    def __init__(self) -> None:
        self.nodes: list[Row] | None = None
        self.trigger: Row | None = None
        self.trigger_read = False
        self.rules: list[Row] | None = None


class RelationCache:
    """The trigger, parse rules and nodes rows of recently listed workflows, each kept under
    the workflow row's (id, version, updated_at) as the page query just read it.

    Every definition change rewrites the workflow row in the same transaction as its
    trigger, rules and nodes (`definitions.write_workflows`), and `updated_at` moves with
    it, so a changed workflow (made by this process or any other) is read under a new key
    and its old entry is never asked for again; the least recently listed are dropped
    beyond `limit`. A listing of 100 workflows spent about a third of its time reading
    and converting these rows (docs/performance.md)."""

    def __init__(self, limit: int = 2000) -> None:
        self.limit = limit
        self._entries: OrderedDict[tuple[int, int, datetime], Relations] = OrderedDict()

    def entry(self, workflow: Listed) -> Relations:
        key = (workflow.row_id, workflow.version, workflow.updated_at)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        found = self._entries[key] = Relations()
        if len(self._entries) > self.limit:
            self._entries.popitem(last=False)
        return found

    def __len__(self) -> int:
        return len(self._entries)
