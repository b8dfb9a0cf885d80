"""The pure parsing steps of a webhook call (docs/webhooks.md, Parsing the call): headers, query, media type, body."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.errors import Rejected
from gateway.engine.requests import (
    media_type,
    parse_body,
    parse_headers,
    parse_qs_text,
    parse_query,
)
from tests import reference

NO_RULES: frozenset[str] = frozenset()


@pytest.mark.parametrize(
    ("raw", "named", "visible", "hidden"),
    [
        ([(b"X-Request-Id", b"r1")], NO_RULES, {"x-request-id": "r1"}, {}),  # lower-cased name
        ([(b"a", b"1"), (b"A", b"2")], NO_RULES, {"a": "1, 2"}, {}),  # repeats joined
        ([(b"x-name", "café".encode("latin-1"))], NO_RULES, {"x-name": "café"}, {}),  # latin-1
        (
            [
                (b"Authorization", b"Basic eA=="),
                (b"Cookie", b"s=1"),
                (b"Proxy-Authorization", b"p"),
            ],
            NO_RULES,
            {},
            {"authorization": "Basic eA==", "cookie": "s=1", "proxy-authorization": "p"},
        ),  # secrets hidden by default, still returned for authentication
        (
            [(b"Authorization", b"Bearer t"), (b"Cookie", b"s=1")],
            frozenset({"authorization"}),
            {"authorization": "Bearer t"},
            {"cookie": "s=1"},
        ),  # a rule naming a secret header exposes that one only
        ([(b"X-Authorization", b"x")], NO_RULES, {"x-authorization": "x"}, {}),  # exact names only
        ([], NO_RULES, {}, {}),  # no headers
    ],
)
def test_parse_headers(
    raw: list[tuple[bytes, bytes]],
    named: frozenset[str],
    visible: dict[str, str],
    hidden: dict[str, str],
) -> None:
    assert parse_headers(raw, named) == (visible, hidden)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", {}),  # no query string
        (b"a=1&b=2", {"a": "1", "b": "2"}),  # flat pairs, values stay strings
        (b"a[0][b]=1", {"a": [{"b": "1"}]}),  # docs/webhooks.md, Query string
        (b"a[]=1&a[]=2", {"a": ["1", "2"]}),  # empty brackets append
        (b"a=1&a=2", {"a": ["1", "2"]}),  # a repeated key becomes a list
        (b"a[b][c]=d", {"a": {"b": {"c": "d"}}}),  # nested objects
        (b"filter[0][tag]=x", {"filter": [{"tag": "x"}]}),  # array of objects
        (b"x=a+b&y=a%20b", {"x": "a b", "y": "a b"}),  # `+` and `%20` are both spaces
        (b"a=&b", {"a": "", "b": ""}),  # empty values
        (b"%C3%A9=%C3%A9", {"é": "é"}),  # percent-encoded UTF-8
        (b"a.b=1", {"a.b": "1"}),  # dots are not nesting (qs default)
        (b"a[1]=x", {"a": ["x"]}),  # sparse indices are compacted (qs)
        (b"a[100]=x", {"a": {"100": "x"}}),  # indices over the array limit make an object (qs)
    ],
)
def test_parse_query(query: bytes, expected: dict[str, Any]) -> None:
    assert parse_query(query) == expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (None, ("", None)),  # no header
        ("", ("", None)),  # empty header
        ("application/json", ("application/json", None)),  # bare type
        ("Application/JSON; Charset=UTF-8", ("application/json", "utf-8")),  # case-insensitive
        ('text/plain; charset="ISO-8859-1"', ("text/plain", "iso-8859-1")),  # quoted charset
        ("text/plain ; format=flowed; charset=utf-8", ("text/plain", "utf-8")),  # other params
        ("text/plain; charset=", ("text/plain", None)),  # empty charset
        ("multipart/form-data; boundary=x", ("multipart/form-data", None)),  # no charset
    ],
)
def test_media_type(content_type: str | None, expected: tuple[str, str | None]) -> None:
    assert media_type(content_type) == expected


@pytest.mark.parametrize(
    ("content_type", "raw", "expected"),
    [
        ("application/json", b'{"a": [1, {"b": null}]}', {"a": [1, {"b": None}]}),  # JSON
        ("application/vnd.api+json", b'{"data": {"id": "1"}}', {"data": {"id": "1"}}),  # +json
        ("application/json; charset=utf-8", b"[1, 2]", [1, 2]),  # a top-level array
        ("application/json", b'"text"', "text"),  # a top-level scalar
        (
            "application/x-www-form-urlencoded",
            b"a[b]=1&c[]=2&c[]=3",
            {"a": {"b": "1"}, "c": ["2", "3"]},
        ),  # form, qs nesting
        ("application/x-www-form-urlencoded", b"d=x+y%21", {"d": "x y!"}),  # form escapes
        ("text/plain", b"hello\nworld", "hello\nworld"),  # text as a string
        ("text/csv", b"a,b\n1,2", "a,b\n1,2"),  # any text/* type
        ("text/plain; charset=iso-8859-1", "café".encode("latin-1"), "café"),  # declared charset
        ("application/xml", b"<a>1</a>", "<a>1</a>"),  # XML as a string
        (None, b"", {}),  # missing body
        ("application/json", b"", {}),  # empty body whatever the type
        ("application/octet-stream", b"", {}),  # empty body of an unsupported type
    ],
)
def test_parse_body(content_type: str | None, raw: bytes, expected: Any) -> None:
    assert parse_body(content_type, raw, depth_limit=5) == expected


def nested(depth: int) -> bytes:
    """A JSON array nested `depth` levels deep: nested(2) == b"[[]]"."""
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("content_type", "raw", "status", "message"),
    [
        ("application/json", b'{"a": ', 400, "not valid JSON"),  # truncated JSON
        ("application/json", b"{'a': 1}", 400, "not valid JSON"),  # single quotes
        ("application/json", nested(6), 400, "nested deeper than 5 levels"),  # over the limit
        ("application/json", b'{"a":{"b":{"c":{"d":{"e":{}}}}}}', 400, "deeper than 5"),  # objects
        (
            "application/json",
            nested(100_000),
            400,
            "nested deeper than",
        ),  # far deeper than the parser goes
        ("text/plain", b"\xff\xfe", 400, "not valid utf-8 text"),  # bytes that are not UTF-8
        ("text/plain; charset=no-such", b"abc", 400, "not valid no-such text"),  # unknown charset
        ("application/x-www-form-urlencoded; charset=ascii", b"a=\xe9", 400, "ascii"),  # form
        ("application/octet-stream", b"\x00", 415, "application/octet-stream"),  # binary
        ("image/png", b"\x89PNG", 415, "image/png"),  # another unsupported type
        (None, b"a=1", 415, "(none)"),  # a body without a content type
    ],
)
def test_parse_body_refuses(
    content_type: str | None, raw: bytes, status: int, message: str
) -> None:
    with pytest.raises(Rejected) as caught:
        parse_body(content_type, raw, depth_limit=5)
    assert caught.value.status == status
    assert message in caught.value.message


def test_parse_body_accepts_nesting_at_the_limit() -> None:
    assert parse_body("application/json", nested(5), depth_limit=5) == [[[[[]]]]]


def test_form_body_percent_escapes_follow_the_declared_charset() -> None:
    content_type = "application/x-www-form-urlencoded; charset=iso-8859-1"
    assert parse_body(content_type, b"name=caf%E9", depth_limit=5) == {"name": "café"}


def test_a_query_parsed_again_is_a_new_value() -> None:
    # Repeated query strings are remembered; parse rules write into what they get, and
    # that must not reach the next call with the same query.
    for query in (b"source=x&tag=a&tag=b", b"source=y"):
        first = parse_query(query)
        expected = {k: list(v) if isinstance(v, list) else v for k, v in first.items()}
        first["source"] = 1
        if "tag" in first:
            first["tag"].append("c")
        assert parse_query(query) == expected


def test_query_with_raw_utf8_bytes() -> None:
    # What `curl 'http://host/hook?name=café'` sends; browsers escape it, curl does not.
    assert parse_query("name=café".encode()) == {"name": "café"}


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="ab.+ %=2E9Zé&", max_size=4),
            st.text(alphabet="ab.+ %=2E9Zé", max_size=4),
        ),
        max_size=30,
    )
)
def test_flat_query_fast_path_agrees_with_qs(pairs: list[tuple[str, str]]) -> None:
    # The fast path must give exactly what the qs port gives for bracket-free queries.
    text = "&".join(f"{k}={v}" for k, v in pairs)
    assert parse_query(text.encode()) == parse_qs_text(text)


QS_CASES = [
    "a=%FF",  # not UTF-8: qs keeps the escape
    "a=%FFabc%20x+y",  # one bad escape keeps the whole value escaped; `+` is still a space
    "%FF=1",  # keys too
    "a=%zz&b=%",  # a % without two hex digits
    "a=%E4%B8%AD",  # good UTF-8 is decoded
    "a=%E4x",  # a truncated UTF-8 sequence
    "a=%ED%A0%80",  # an escaped surrogate is not UTF-8
    "a=%C0%80",  # an overlong encoding is not UTF-8
    "a[%FF]=1&a[b]=%FF",  # inside brackets (the qs port's path, not the flat one)
    "a%5B0%5D=x&a%5d=y",  # escaped brackets are brackets, whatever their case
    "x%5Dy=1",  # even a lone one
    "a=1&a=%FF",  # repeats
    "a&b=&=c&&d=1=2",  # no value, empty key, empty pair, `=` in a value
]


@pytest.fixture(scope="module")
def node_qs() -> dict[str, Any]:
    """Node's qs (what NocoBase parses queries and forms with) on every case, in one batch."""
    results = reference.run([{"kind": "qs", "text": text} for text in QS_CASES])
    return {text: result["value"] for text, result in zip(QS_CASES, results, strict=True)}


@pytest.mark.parametrize("text", QS_CASES)
def test_queries_and_forms_decode_as_node_qs_does(node_qs: dict[str, Any], text: str) -> None:
    assert parse_query(text.encode()) == node_qs[text]
    assert parse_body("application/x-www-form-urlencoded", text.encode(), 5) == node_qs[text]
