"""DataLoaders, made fresh for every request: every relation a query asks for is read with one
query per relation and level, whatever the number of rows (no N+1).

A page of 100 workflows with trigger, parse rules and nodes is 4 queries (+1 for
`totalCount`), not 301.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import cached_property
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from gateway.service import reads
from gateway.service.reads import ExecutionRecord, JobRow, RequestRecord, Row

K = TypeVar("K")
R = TypeVar("R")
BATCH = 500  # ids per query: well under every database's bound-parameter limit


Fetch = Callable[[list[K]], Awaitable[Iterable[R]]]


def _one(fetch: Fetch[K, R], key_of: Callable[[R], K]) -> DataLoader[K, R | None]:
    """A loader of the row whose `key_of` is the key, or None."""

    async def load(keys: list[K]) -> Sequence[R | None]:
        rows = {key_of(row): row for row in await fetch(keys)}
        return [rows.get(key) for key in keys]

    return DataLoader(load, max_batch_size=BATCH)


def _many(fetch: Fetch[K, R], key_of: Callable[[R], K]) -> DataLoader[K, list[R]]:
    """A loader of the rows whose `key_of` is the key, in the order `fetch` gives them."""

    async def load(keys: list[K]) -> Sequence[list[R]]:
        groups: dict[Any, list[R]] = {key: [] for key in keys}
        for row in await fetch(keys):
            groups[key_of(row)].append(row)
        return [groups[key] for key in keys]

    return DataLoader(load, max_batch_size=BATCH)


async def _versions(ids: list[int]) -> Sequence[int | None]:
    numbers = await reads.version_numbers(ids)
    return [numbers.get(i) for i in ids]


async def _documents(keys: list[str]) -> Sequence[dict[str, Any] | None]:
    documents = {doc["key"]: doc for doc in await reads.documents(keys)}
    return [documents.get(key) for key in keys]


class Loaders:
    """Each loader is made on first use: a subscription gets fresh loaders for every message
    it sends, and most messages use none of them."""

    @cached_property
    def workflow(self) -> DataLoader[int, Row | None]:
        return _one(reads.workflows_by_id, itemgetter("id"))

    @cached_property
    def trigger(self) -> DataLoader[int, Row | None]:
        return _one(reads.triggers_by_id, itemgetter("id"))

    @cached_property
    def workflow_trigger(self) -> DataLoader[int, Row | None]:
        return _one(reads.triggers_by_workflow, itemgetter("workflow_id"))

    @cached_property
    def rules(self) -> DataLoader[int, list[Row]]:
        return _many(reads.rules_by_trigger, itemgetter("trigger_id"))

    @cached_property
    def nodes(self) -> DataLoader[int, list[Row]]:
        return _many(reads.nodes_by_workflow, itemgetter("workflow_id"))

    @cached_property
    def execution(self) -> DataLoader[uuid.UUID, ExecutionRecord | None]:
        return _one(reads.executions_by_id, attrgetter("id"))

    @cached_property
    def last_execution(self) -> DataLoader[int, ExecutionRecord | None]:
        return _one(reads.last_executions, attrgetter("workflow_id"))

    @cached_property
    def request(self) -> DataLoader[uuid.UUID, RequestRecord | None]:
        return _one(reads.requests_by_execution, attrgetter("execution_id"))

    @cached_property
    def jobs(self) -> DataLoader[uuid.UUID, list[JobRow]]:
        return _many(reads.jobs_by_execution, attrgetter("execution_id"))

    @cached_property
    def version(self) -> DataLoader[int, int | None]:
        return DataLoader(_versions, max_batch_size=BATCH)

    @cached_property
    def document(self) -> DataLoader[str, dict[str, Any] | None]:
        return DataLoader(_documents, max_batch_size=BATCH)
