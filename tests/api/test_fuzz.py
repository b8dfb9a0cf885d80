"""Property: whatever operation a client sends — valid against the schema or with one
violation, with any argument values — the API answers without a 500 and every error carries
a code that is not a masked bug (`INTERNAL_SERVER_ERROR`)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from gateway.api.schema import build_schema
from tests.api.client import AUTH
from tests.support import Gateway

CODES = {
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
}
NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**31), 2**31 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(NAME, children, max_size=3),
    max_leaves=8,
)


def value_node(value: Any) -> graphql.ValueNode:
    """A JSON value as a GraphQL literal."""
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([value_node(item) for item in value])
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=value_node(v))
            for k, v in value.items()
        ]
    )


CUSTOM = {
    "JSON": JSON_VALUES.map(value_node),
    "DateTime": st.datetimes(timezones=st.none() | st.just(UTC)).map(
        lambda d: nodes.String(d.isoformat())
    ),
}
SCHEMA = build_schema(introspection=True)._schema
OPERATIONS = st.one_of(
    from_schema(SCHEMA, custom_scalars=CUSTOM, mode=Mode.POSITIVE),
    from_schema(SCHEMA, custom_scalars=CUSTOM, mode=Mode.NEGATIVE),
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operation=OPERATIONS)
async def test_no_operation_gets_a_500_or_an_uncoded_error(
    gateway: Gateway, operation: str
) -> None:
    response = await gateway.client.post("/graphql", json={"query": operation}, headers=AUTH)
    assert response.status_code < 500, response.text
    errors = response.json().get("errors") or []
    codes = {error.get("extensions", {}).get("code") for error in errors}
    assert codes <= CODES, (operation, errors)
