"""Relay connections (`edges { cursor node }`, `pageInfo`, `totalCount`) with keyset cursors.

A cursor is opaque to clients: base64url of the sort key of the last item seen (a workflow's
id; an execution's creation time and id), so a page stays right while rows are added.
`totalCount` is counted only when asked for.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from gateway.api.errors import bad_input
from gateway.api.limits import MAX_PAGE

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = strawberry.field(
        default=False, description="Always false: pages only go forward"
    )
    start_cursor: str | None = None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Items matching the filters, on every page")
    async def total_count(self) -> int:
        return await self.count()


def page_size(first: int) -> int:
    if not 0 <= first <= MAX_PAGE:
        raise bad_input("first", f"must be from 0 to {MAX_PAGE}")
    return first


def encode_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, prefix: str) -> str:
    """The text of a cursor made by `encode_cursor(prefix + text)`; BAD_USER_INPUT if not."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith(prefix):
        raise bad_input("after", "not a cursor of this list", hint="use a pageInfo.endCursor")
    return text[len(prefix) :]


def connection(
    items: Sequence[T],
    size: int,
    cursor: Callable[[T], str],
    count: Callable[[], Awaitable[int]],
) -> Connection[T]:
    """A page from `items` fetched with one extra row (which says there is a next page)."""
    edges = [Edge(cursor=cursor(item), node=item) for item in items[:size]]
    info = PageInfo(
        has_next_page=len(items) > size,
        end_cursor=edges[-1].cursor if edges else None,
        start_cursor=edges[0].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=info, count=count)
