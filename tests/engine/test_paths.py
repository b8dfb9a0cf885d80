from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.errors import TemplateError
from gateway.engine.paths import MISSING, Segment, assign, format_path, lookup, parse_path, resolve
from tests import reference


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
    "meta": {"0": "zero", "a.b": "dotted", "length": 7},
    "name": "shop",
    "emoji": "a😀",
    "withnull": [None, {"id": 1}],
}

# Each case is also rendered by NocoBase itself in tests/engine/test_nocobase.py.
RESOLVED: list[tuple[tuple[Segment, ...], Any]] = [
    ((), ORDERS),  # empty path is the value itself
    (("name",), "shop"),  # plain key
    (("orders", 0, "id"), 1),  # int index
    (("orders", "1", "id"), 2),  # all-digit str indexes a list (lodash `items.1`)
    (("orders", "01"), None),  # but not digits JavaScript would not write as an index
    (("orders", -1, "id"), None),  # negative index is missing
    (("orders", 3), None),  # out of range is missing
    (("meta", 0), "zero"),  # int on a dict is the key str(i)
    (("meta", "a.b"), "dotted"),  # quoted key
    (("orders", "id"), [1, 2, None]),  # map over items, None where missing
    (("orders", "lines", "sku"), ["a", "b", "c"]),  # mapping again over the spliced lines
    (("orders", "tags"), ["x", "y", "z", None]),  # list values are spliced in (flat())
    (("orders", "lines", 0, "sku"), "a"),  # an index after a mapping: of the whole list
    (("orders", "lines"), [{"sku": "a"}, {"sku": "b"}, {"sku": "c"}]),  # spliced
    (("matrix", "v"), [None, None]),  # one level only: the items are lists, without `v`
    (("orders", "length"), 3),  # a list's length
    (("orders", "lines", "length"), 3),  # of the mapped list
    (("meta", "length"), 7),  # on a dict, `length` is a key like any other
    (("name", "length"), 4),  # a string's length
    (("emoji", "length"), 3),  # in UTF-16 code units, as JavaScript counts
    (("name", 0), "s"),  # an index on a string is one code unit
    (("name", "x"), None),  # key on a string
    (("withnull", "id"), [None, 1]),  # a null item has nothing (NocoBase's node errors)
    (("missing", "deeper", 0), None),  # missing early
    (("orders", 0, "id", "x"), None),  # key on a number
]


@pytest.mark.parametrize(("path", "expected"), RESOLVED)
def test_resolve(path: tuple[Segment, ...], expected: Any) -> None:
    assert resolve(ORDERS, path) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),  # nothing at all
        (42, None),  # a scalar
        ("text", None),  # a string
        ([], None),  # a key on an empty list maps over no items: index 0 of nothing
        ([{"a": "not a list"}], None),  # index 0 of the mapped ["not a list"], then a key
    ],
)
def test_resolve_never_raises(value: Any, expected: Any) -> None:
    assert resolve(value, ("a", 0, "b")) == expected


def test_lookup_tells_missing_from_null() -> None:
    assert lookup({"a": None}, ("a",)) is None
    assert lookup({"a": None}, ("b",)) is MISSING
    assert lookup({"a": None}, ("a", "b")) is MISSING


def test_lookup_without_mapping_is_plain_lodash_get() -> None:
    assert lookup(ORDERS, ("orders", "id"), mapping=False) is MISSING
    assert lookup(ORDERS, ("orders", "length"), mapping=False) == 3


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


def dotted(path: tuple[Segment, ...]) -> str | None:
    """A path as NocoBase writes it (`a.0.b`), or None when it cannot be (a dotted key, a
    negative index)."""
    parts = [str(s) for s in path]
    if any("." in p or p.startswith("-") for p in parts):
        return None
    return ".".join(["$context", "body", *parts])


# Where NocoBase differs on purpose (docs/nocobase.md, Paths): it throws reading a key of a
# null item; the gateway gives null for that item.
NOCOBASE_THROWS = {("withnull", "id")}
COMPARED = [(p, e) for p, e in RESOLVED if dotted(p) and p not in NOCOBASE_THROWS]


@pytest.fixture(scope="module")
def nocobase_paths() -> list[dict[str, Any]]:
    """Each path rendered by NocoBase's own templates, as a whole placeholder."""
    scope = {"$context": {"body": ORDERS}}
    tasks = [
        {"kind": "template", "template": {"v": f"{{{{{dotted(p)}}}}}"}, "scope": scope}
        for p, _ in COMPARED
    ]
    return reference.run(tasks)


@pytest.mark.parametrize(("index", "case"), list(enumerate(COMPARED)))
def test_paths_resolve_as_nocobase_resolves_them(
    nocobase_paths: list[dict[str, Any]], index: int, case: tuple[tuple[Segment, ...], Any]
) -> None:
    path, expected = case
    theirs = nocobase_paths[index]["value"].get("v")  # undefined: the key is left out

    assert theirs == expected == resolve(ORDERS, path)


def test_nocobase_throws_where_the_gateway_gives_null() -> None:
    [result] = reference.run(
        [
            {
                "kind": "template",
                "template": "{{$context.body.withnull.id}}",
                "scope": {"$context": {"body": ORDERS}},
            }
        ]
    )
    assert "Cannot read properties of null" in result["error"]
