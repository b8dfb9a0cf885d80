from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.errors import TemplateError
from gateway.engine.paths import Segment, assign, format_path, parse_path, resolve


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", ()),  # the empty path
        ("a", ("a",)),  # one key
        ("b.c", ("b", "c")),  # dotted keys
        ("items[0].id", ("items", 0, "id")),  # index between keys
        ("query[0].a", ("query", 0, "a")),  # docs/webhooks.md, Paths
        ("[0].id", (0, "id")),  # a path may start with an index
        ("[0][12]", (0, 12)),  # consecutive indices
        ("a[007]", ("a", 7)),  # leading zeros are still an index
        ('["a.b"]', ("a.b",)),  # double-quoted key
        ("['a.b']", ("a.b",)),  # single-quoted key
        ('a["x.y"].z', ("a", "x.y", "z")),  # quoted key in the middle
        ('a["x y"]["[0]"]', ("a", "x y", "[0]")),  # spaces and brackets inside quotes
        ('a[""]', ("a", "")),  # empty quoted key
        (r'a["say \"hi\""]', ("a", 'say "hi"')),  # escaped double quote
        (r"a['it\'s']", ("a", "it's")),  # escaped single quote
        (r'a["back\\slash"]', ("a", "back\\slash")),  # escaped backslash
        ('a["it\'s"]', ("a", "it's")),  # other quote needs no escape
        ("headers.x-request-id", ("headers", "x-request-id")),  # dash in a bare key
        ("$context.body", ("$context", "body")),  # dollar in a bare key
        ("a.urn:x:1", ("a", "urn:x:1")),  # colons in a bare key
        ("items.0.id", ("items", "0", "id")),  # digits as a bare key stay a str
        ("données.ключ", ("données", "ключ")),  # non-ASCII bare keys
    ],
)
def test_parse_path(text: str, segments: tuple[Segment, ...]) -> None:
    assert parse_path(text) == segments


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a..b", "position 2: expected a key, found '.'"),  # empty middle segment
        (".a", "position 0: expected a key, found '.'"),  # leading dot
        ("a.", "position 2: expected a key, found the end"),  # trailing dot
        ("a.[0]", "position 2: expected a key, found '['"),  # dot before a bracket
        ("a[0", "position 3: expected ']' for the '[' at position 1"),  # unclosed bracket
        ("a[0x]", "found 'x'"),  # garbage after an index
        ("a[]", "position 2: expected an index or a quoted key"),  # empty bracket
        ("a[x]", "position 2: expected an index or a quoted key"),  # unquoted key in brackets
        ("a[-1]", "position 2: expected an index or a quoted key"),  # negative index
        ("a[ 0 ]", "position 2: expected an index or a quoted key"),  # spaces in brackets
        ('a["x]', 'position 2: unclosed "'),  # unclosed quote
        ('a["x"', "position 5: expected ']'"),  # quote closed, bracket not
        (r'a["\n"]', "position 3: unknown escape"),  # unsupported escape
        ("a b", "position 1: unexpected ' '"),  # whitespace
        ("a]", "position 1: unexpected ']'"),  # stray closing bracket
        ("a[0]b", "position 4: unexpected 'b'"),  # key after a bracket without a dot
        ('a"b"', "position 1: unexpected '\"'"),  # quote in a bare key
        (" a", "position 0: expected a key, found ' '"),  # leading whitespace
    ],
)
def test_parse_path_errors(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_path(text)
    assert f"invalid path {text!r}" in str(caught.value)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("segments", "text"),
    [
        ((), ""),  # empty path
        (("a", "b"), "a.b"),  # bare keys with dots
        ((0, "id"), "[0].id"),  # leading index, no leading dot
        (("items", 0, "id"), "items[0].id"),  # index between keys
        (("a.b",), '["a.b"]'),  # dotted key quoted
        (("",), '[""]'),  # empty key quoted
        (("x y", 'q"'), r'["x y"]["q\""]'),  # whitespace, escaped quote
        (("a", 'b\\"c'), r'a["b\\\"c"]'),  # backslash escaped inside quotes
        (("a", "b\\c"), "a.b\\c"),  # a lone backslash is a bare character
        (("a", "[0]"), 'a["[0]"]'),  # brackets in a key
        (("headers", "x-request-id"), "headers.x-request-id"),  # dash stays bare
        (("0",), "0"),  # a digit key stays bare
    ],
)
def test_format_path(segments: tuple[Segment, ...], text: str) -> None:
    assert format_path(segments) == text


def test_format_path_rejects_negative_index() -> None:
    with pytest.raises(ValueError, match="negative index -1"):
        format_path(("a", -1))


@given(st.lists(st.one_of(st.text(), st.integers(min_value=0))))
def test_format_then_parse_round_trips(segments: list[Segment]) -> None:
    assert parse_path(format_path(segments)) == tuple(segments)


ORDERS: dict[str, Any] = {
    "orders": [
        {"id": 1, "lines": [{"sku": "a"}, {"sku": "b"}], "tags": ["x"]},
        {"id": 2, "lines": [{"sku": "c"}], "tags": ["y", "z"]},
        {"lines": []},
    ],
    "matrix": [[{"v": 1}, {"v": 2}], [{"v": 3}]],
    "meta": {"0": "zero", "a.b": "dotted"},
    "name": "shop",
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ((), ORDERS),  # empty path is the value itself
        (("name",), "shop"),  # plain key
        (("orders", 0, "id"), 1),  # int index
        (("orders", "1", "id"), 2),  # all-digit str indexes a list (lodash `items.1`)
        (("orders", -1, "id"), None),  # negative index is missing
        (("orders", 3), None),  # out of range is missing
        (("meta", 0), "zero"),  # int on a dict is the key str(i)
        (("meta", "a.b"), "dotted"),  # quoted key
        (("orders", "id"), [1, 2, None]),  # map over items, None where missing
        (("orders", "lines", "sku"), ["a", "b", "c"]),  # nested mapping flattens
        (("orders", "tags"), [["x"], ["y", "z"], None]),  # list values are not flattened
        (("orders", "lines", 0, "sku"), ["a", "c", None]),  # index applies per item
        (("orders", "lines"), [[{"sku": "a"}, {"sku": "b"}], [{"sku": "c"}], []]),  # lists kept
        (("matrix", "v"), [1, 2, 3]),  # list of lists maps through both levels
        (("name", "x"), None),  # key on a string
        (("name", 0), None),  # index on a string
        (("missing", "deeper", 0), None),  # missing early
        (("orders", 0, "id", "x"), None),  # key on a number
    ],
)
def test_resolve(path: tuple[Segment, ...], expected: Any) -> None:
    assert resolve(ORDERS, path) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),  # nothing at all
        (42, None),  # a scalar
        ("text", None),  # a string
        ([], []),  # a key on an empty list maps over no items
        ([{"a": "not a list"}], [None]),  # index on a string inside a mapping
    ],
)
def test_resolve_never_raises(value: Any, expected: Any) -> None:
    assert resolve(value, ("a", 0, "b")) == expected


@pytest.mark.parametrize(
    ("start", "path", "value", "expected"),
    [
        ({}, ("a",), 1, {"a": 1}),  # top-level key
        ({"a": {"b": 1}}, ("a", "b"), 2, {"a": {"b": 2}}),  # overwrite existing leaf
        ({}, ("a", "b"), 1, {"a": {"b": 1}}),  # create a dict
        ({}, ("a", 1), "x", {"a": [None, "x"]}),  # create a list padded with None
        ({}, ("a", 0, "b"), 1, {"a": [{"b": 1}]}),  # dict inside a new list
        ({"a": [1]}, ("a", 2), 3, {"a": [1, None, 3]}),  # pad an existing list
        ({"a": [1, 2]}, ("a", "0"), 9, {"a": [9, 2]}),  # all-digit str indexes a list
        ({"a": None}, ("a", "b"), 1, {"a": {"b": 1}}),  # None is replaced by a container
        ({}, (0,), "x", {"0": "x"}),  # int on a dict is the key str(i)
        ({"a": {}}, ("a", "x.y"), 1, {"a": {"x.y": 1}}),  # key with a dot
    ],
)
def test_assign(
    start: dict[str, Any], path: tuple[Segment, ...], value: Any, expected: dict[str, Any]
) -> None:
    assign(start, path, value)
    assert start == expected


@pytest.mark.parametrize(
    ("start", "path", "message"),
    [
        ({}, (), "empty path"),  # nothing to assign to
        ({"a": 1}, ("a", "b"), "runs through a scalar"),  # never overwrite a scalar
        ({"a": [{}]}, ("a", "id"), "key 'id' on a list"),  # mapping paths cannot be assigned
        ({"a": []}, ("a", -1), "negative index -1"),  # negative index
    ],
)
def test_assign_errors(start: dict[str, Any], path: tuple[Segment, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        assign(start, path, 1)


@pytest.mark.parametrize(
    "text",
    [
        "a.b",  # nested dicts
        "items[0].id",  # dict in a list
        '["x.y"][2]',  # quoted key, padded list
        "deep[1][0].z",  # list in a list
        "a.0",  # digit key on a new dict stays a key
    ],
)
def test_assign_then_resolve(text: str) -> None:
    data: dict[str, Any] = {}
    path = parse_path(text)
    assign(data, path, "v")
    assert resolve(data, path) == "v"
