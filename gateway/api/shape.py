"""The depth and alias limits as validation rules linear in the document's size.

Each fragment's depth and alias count is computed once per document and reused wherever
it is spread: a document whose fragments each spread the next twice describes an
exponentially large selection, and expanding it spread by spread (as a naive walk does)
takes exponential time — with the server's one event loop stalled meanwhile. Introspection
fields (`__schema`, `__typename`, …) do not count towards the depth.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.validation import ASTValidationContext


class _Shape:
    """Depth and aliases of selection sets, memoised by fragment name. A fragment spread
    while it is being measured (a cycle, reported by graphql-core's own rule) counts 0."""

    def __init__(self, context: ASTValidationContext) -> None:
        self.context = context
        self._fragments: dict[str, tuple[int, int]] = {}
        self._open: set[str] = set()

    def measure(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
        """(fields on its longest path, aliases) of a selection set, fragments expanded;
        an introspection field and what it selects count no depth."""
        depth = aliases = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                below, inner = self.measure(selection.selection_set)
                below = 0 if selection.name.value.startswith("__") else below + 1
                inner += selection.alias is not None
            elif isinstance(selection, InlineFragmentNode):
                below, inner = self.measure(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                below, inner = self.fragment(selection.name.value)
            else:  # pragma: no cover - graphql-core has no other selection
                continue
            depth, aliases = max(depth, below), aliases + inner
        return depth, aliases

    def fragment(self, name: str) -> tuple[int, int]:
        known = self._fragments.get(name)
        if known is not None:
            return known
        definition: FragmentDefinitionNode | None = self.context.get_fragment(name)
        if definition is None or name in self._open:
            return 0, 0
        self._open.add(name)
        measured = self._fragments[name] = self.measure(definition.selection_set)
        self._open.discard(name)
        return measured


def shape_rule(max_depth: int, max_aliases: int) -> type[ASTValidationRule]:
    """A rule refusing operations deeper than `max_depth` (levels below a root field:
    `{ a { b } }` is 1 deep) or with more than `max_aliases` aliases (fragments counted as
    many times as they are spread)."""

    class ShapeLimit(ASTValidationRule):
        def __init__(self, context: ASTValidationContext) -> None:
            super().__init__(context)
            self.shape = _Shape(context)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> Any:
            name = node.name.value if node.name else "anonymous"
            try:
                fields, aliases = self.shape.measure(node.selection_set)
            except RecursionError:
                fields, aliases = max_depth + 2, 0
            depth = fields - 1
            if depth > max_depth:
                message = f"'{name}' exceeds maximum operation depth of {max_depth}"
                self.report_error(GraphQLError(message, node))
            if aliases > max_aliases:
                message = f"{aliases} aliases found. Allowed: {max_aliases}"
                self.report_error(GraphQLError(message, node))
            return self.SKIP

    return ShapeLimit
