"""Answers to read-only questions about definitions, kept until definitions change.

Listing workflows with their triggers, parse rules and nodes is what an editor asks most and
what changes least; answering it costs graphql-core thousands of field resolutions. An
operation is cacheable when it is a single query whose top-level fields are all in
`DEFINITION_FIELDS` (executions are never cached). An answer is keyed by the exact request
body and stamped with the registry's generation, which moves with every definition change
made in this process and, through the revision poll, in any other process (at most
`GATEWAY_REVISION_POLL` seconds later). Only complete answers without errors are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

DEFINITION_FIELDS = frozenset({"workflows", "workflow", "nodeTypes", "parseExample", "__typename"})
MAX_ANSWERS = 256
MAX_QUERIES = 1024
MAX_ANSWER_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    generation: int
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _is_definition_query(text: str) -> bool:
    try:
        document = parse(text)
    except GraphQLError:
        return False
    operations = document.definitions
    if len(operations) != 1 or not isinstance(operations[0], OperationDefinitionNode):
        return False
    operation = operations[0]
    if operation.operation is not OperationType.QUERY:
        return False
    return all(
        isinstance(selection, FieldNode) and selection.name.value in DEFINITION_FIELDS
        for selection in operation.selection_set.selections
    )


class AnswerCache:
    def __init__(self, generation: Callable[[], int]) -> None:
        self.generation = generation
        self._answers: OrderedDict[bytes, Answer] = OrderedDict()
        self._queries: OrderedDict[str, bool] = OrderedDict()

    def cacheable(self, body: bytes) -> bool:
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        query = request.get("query") if isinstance(request, dict) else None
        if not isinstance(query, str):
            return False
        known = self._queries.get(query)
        if known is None:
            known = _is_definition_query(query)
            self._queries[query] = known
            if len(self._queries) > MAX_QUERIES:
                self._queries.popitem(last=False)
        return known

    def get(self, body: bytes) -> Answer | None:
        answer = self._answers.get(body)
        if answer is None or answer.generation != self.generation():
            return None
        self._answers.move_to_end(body)
        return answer

    def put(self, body: bytes, answer: Answer) -> None:
        if answer.status != 200 or len(answer.body) > MAX_ANSWER_BYTES:
            return
        if b'"errors"' in answer.body or answer.generation != self.generation():
            return
        self._answers[body] = answer
        if len(self._answers) > MAX_ANSWERS:
            self._answers.popitem(last=False)
