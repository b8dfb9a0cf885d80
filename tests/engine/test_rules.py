"""Parse rules (docs/webhooks.md, Parse rules): required, type coercion, `var`, header names."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.engine.rules import Rule, apply_rules, compile_rules, named_headers


def apply(source: str, rule: dict[str, Any], data: dict[str, Any]) -> list[dict[str, Any]]:
    return apply_rules(compile_rules({source: [rule]}), data)


@pytest.mark.parametrize(
    ("value", "problems"),
    [
        ({"id": "pi_1"}, []),  # present
        ({"id": ""}, []),  # empty text is present
        ({"id": 0}, []),  # so is zero
        ({"id": False}, []),  # and false
        ({}, [{"source": "body", "key": "id", "message": "required"}]),  # missing
        ({"id": None}, [{"source": "body", "key": "id", "message": "required"}]),  # null
        ({"other": 1}, [{"source": "body", "key": "id", "message": "required"}]),  # elsewhere
    ],
)
def test_required(value: dict[str, Any], problems: list[dict[str, Any]]) -> None:
    assert apply("body", {"key": "id", "required": True}, {"body": value}) == problems


@pytest.mark.parametrize(
    ("required", "type_"),
    [
        (False, None),  # an optional rule
        (False, "integer"),  # an optional rule with a type is checked only when present
    ],
)
def test_optional_missing_passes(required: bool, type_: str | None) -> None:
    data: dict[str, Any] = {"body": {}}
    rule = {"key": "id", "required": required, "type": type_, "var": "theId"}
    assert apply("body", rule, data) == []
    assert data == {"body": {}}  # nothing placed for a missing value


@pytest.mark.parametrize(
    ("type_", "value", "expected"),
    [
        # string: text as is; numbers and bools as text
        ("string", "abc", "abc"),
        ("string", "", ""),
        ("string", 12, "12"),
        ("string", 1.5, "1.5"),
        ("string", True, "true"),
        ("string", False, "false"),
        # number: decimal text, exponents, spaces around
        ("number", "12", 12),
        ("number", "-3", -3),
        ("number", "1.5", 1.5),
        ("number", "1.0", 1.0),  # a dot keeps it a float
        ("number", "1e3", 1000),  # integral, no dot: an int
        ("number", "1.5e1", 15.0),
        ("number", " 7 ", 7),
        ("number", 7, 7),  # native numbers as they are
        ("number", 2.5, 2.5),
        # integer: integral values only
        ("integer", "12", 12),
        ("integer", " 7 ", 7),
        ("integer", "1.0", 1),  # integral even with a dot
        ("integer", "1e3", 1000),
        ("integer", "-0", 0),
        ("integer", 5, 5),
        ("integer", 2.0, 2),
        # boolean: the usual spellings, any case, spaces around
        ("boolean", "true", True),
        ("boolean", "TRUE", True),
        ("boolean", "yes", True),
        ("boolean", "on", True),
        ("boolean", "1", True),
        ("boolean", " True ", True),
        ("boolean", "false", False),
        ("boolean", "No", False),
        ("boolean", "off", False),
        ("boolean", "0", False),
        ("boolean", True, True),
        ("boolean", False, False),
        # object and array: checked, never converted
        ("object", {"a": 1}, {"a": 1}),
        ("object", {}, {}),
        ("array", [1, "2"], [1, "2"]),
        ("array", [], []),
    ],
)
def test_coercion(type_: str, value: Any, expected: Any) -> None:
    data: dict[str, Any] = {"query": {"v": value}}
    assert apply("query", {"key": "v", "type": type_}, data) == []
    assert data["query"]["v"] == expected
    assert type(data["query"]["v"]) is type(expected)


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        # string: containers have no text form
        ("string", {"a": 1}),
        ("string", [1]),
        # number: not decimal text, not finite, not a bool
        ("number", "abc"),
        ("number", ""),
        ("number", "  "),
        ("number", "1,5"),
        ("number", "0x10"),
        ("number", "nan"),
        ("number", "NaN"),
        ("number", "inf"),
        ("number", "-Infinity"),
        ("number", "1e400"),  # overflows to inf
        ("number", True),
        ("number", [1]),
        ("number", {"n": 1}),
        # integer: a fraction is not an integer
        ("integer", "1.5"),
        ("integer", 2.5),
        ("integer", "abc"),
        ("integer", ""),
        ("integer", False),
        # boolean: anything else, including numbers
        ("boolean", "2"),
        ("boolean", ""),
        ("boolean", "y"),
        ("boolean", "truthy"),
        ("boolean", 1),
        ("boolean", 0),
        ("boolean", [True]),
        # object and array: no parsing of text
        ("object", "{}"),
        ("object", [1]),
        ("object", 1),
        ("array", "[1]"),
        ("array", {"0": 1}),
        ("array", "a,b"),
    ],
)
def test_coercion_mismatch(type_: str, value: Any) -> None:
    data: dict[str, Any] = {"query": {"v": value}}
    [problem] = apply("query", {"key": "v", "type": type_, "var": "alias"}, data)
    assert problem == {"source": "query", "key": "v", "message": f"expected {type_}, got {value!r}"}
    assert data == {"query": {"v": value}}  # untouched: no write-back, no var


@pytest.mark.parametrize(
    ("type_", "value", "expected"),
    [
        # Python's float() accepts digit separators, which no webhook sender means
        ("number", "1_000", None),
        # going through float() loses digits the calculators keep exactly
        ("integer", "12345678901234567891", 12345678901234567891),
        # float() also reads non-ASCII digits
        ("number", "١٢", None),
    ],
)
def test_coercion_float_edges(type_: str, value: str, expected: int | None) -> None:
    data: dict[str, Any] = {"query": {"v": value}}
    problems = apply("query", {"key": "v", "type": type_}, data)
    if expected is None:
        assert len(problems) == 1
    else:
        assert data["query"]["v"] == expected


def test_long_values_are_shortened_in_messages() -> None:
    [problem] = apply("body", {"key": "v", "type": "integer"}, {"body": {"v": "x" * 100}})
    assert problem["message"] == "expected integer, got " + repr("x" * 100)[:57] + "..."


def test_coerced_value_is_written_back_at_its_path() -> None:
    data: dict[str, Any] = {
        "headers": {"x-count": "3"},
        "query": {"filter": [{"min": "10"}]},
        "body": {"order": {"paid": "yes", "total": "9.5"}},
    }
    rules = compile_rules(
        {
            "headers": [{"key": "X-Count", "type": "integer"}],
            "query": [{"key": "filter[0].min", "type": "number"}],
            "body": [
                {"key": "order.paid", "type": "boolean"},
                {"key": "order.total", "type": "number"},
            ],
        }
    )
    assert apply_rules(rules, data) == []
    assert data == {
        "headers": {"x-count": 3},
        "query": {"filter": [{"min": 10}]},
        "body": {"order": {"paid": True, "total": 9.5}},
    }


def test_var_copies_the_coerced_value() -> None:
    data: dict[str, Any] = {
        "headers": {"x-count": "3"},
        "query": {"page": "2"},
        "body": {"data": {"object": {"id": "pi_1"}}, "items": [{"n": "4"}]},
    }
    rules = compile_rules(
        {
            "headers": [{"key": "x-count", "type": "integer", "var": "headers_$0"}],
            "query": [{"key": "page", "type": "integer", "var": "query_$0"}],
            "body": [
                {"key": "data.object.id", "var": "body_$0"},
                {"key": "items[0].n", "type": "integer", "var": "body_$1"},
            ],
        }
    )
    assert apply_rules(rules, data) == []
    assert data["headers"]["headers_$0"] == 3
    assert data["query"] == {"page": 2, "query_$0": 2}
    assert data["body"]["body_$0"] == "pi_1"
    assert data["body"]["items"] == [{"n": 4}]
    assert data["body"]["body_$1"] == 4


def test_every_failing_rule_is_reported_in_order() -> None:
    rules = compile_rules(
        {
            "headers": [{"key": "X-Signature", "required": True}],
            "query": [
                {"key": "page", "type": "integer"},
                {"key": "ok", "type": "integer"},
            ],
            "body": [
                {"key": "id", "required": True, "type": "string"},
                {"key": "paid", "type": "boolean"},
            ],
        }
    )
    data: dict[str, Any] = {
        "headers": {},
        "query": {"page": "two", "ok": "1"},
        "body": {"paid": "maybe"},
    }
    assert apply_rules(rules, data) == [
        {"source": "headers", "key": "x-signature", "message": "required"},
        {"source": "query", "key": "page", "message": "expected integer, got 'two'"},
        {"source": "body", "key": "id", "message": "required"},
        {"source": "body", "key": "paid", "message": "expected boolean, got 'maybe'"},
    ]
    assert data["query"]["ok"] == 1  # passing rules still apply


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        # header keys are lower-cased, query and body keys are not
        (
            {
                "headers": [{"key": "X-Request-Id"}],
                "query": [{"key": "Page"}],
                "body": [{"key": "Data.ID"}],
            },
            [
                ("headers", "x-request-id", ("x-request-id",)),
                ("query", "Page", ("Page",)),
                ("body", "Data.ID", ("Data", "ID")),
            ],
        ),
        # paths with indices and quoted keys
        (
            {"body": [{"key": 'items[0]["a.b"]'}]},
            [("body", 'items[0]["a.b"]', ("items", 0, "a.b"))],
        ),
        # sources come out in a fixed order: headers, query, body
        (
            {"body": [{"key": "b"}], "query": [{"key": "q"}], "headers": [{"key": "h"}]},
            [("headers", "h", ("h",)), ("query", "q", ("q",)), ("body", "b", ("b",))],
        ),
        # no request block, or empty lists
        (None, []),
        ({"headers": None, "query": [], "body": []}, []),
    ],
)
def test_compile_rules(
    request_: dict[str, Any] | None, expected: list[tuple[str, str, tuple[Any, ...]]]
) -> None:
    assert [(r.source, r.key, r.path) for r in compile_rules(request_)] == expected


def test_compile_rules_options() -> None:
    [plain, full] = compile_rules(
        {
            "body": [
                {"key": "a", "var": "", "type": ""},
                {"key": "b", "var": "v", "required": True, "type": "integer"},
            ]
        }
    )
    assert plain == Rule("body", "a", ("a",), var=None, required=False, type=None)
    assert full == Rule("body", "b", ("b",), var="v", required=True, type="integer")


def test_header_rule_matches_any_case() -> None:
    data: dict[str, Any] = {"headers": {"x-hook-attempt": "2"}}
    assert (
        apply("headers", {"key": "X-Hook-Attempt", "required": True, "type": "integer"}, data) == []
    )
    assert data["headers"]["x-hook-attempt"] == 2


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        # header rules name their first segment, lower-cased
        ({"headers": [{"key": "Authorization"}, {"key": "x-id"}]}, {"authorization", "x-id"}),
        ({"headers": [{"key": "X-Meta.part"}]}, {"x-meta"}),
        # query and body rules name no header
        ({"query": [{"key": "authorization"}], "body": [{"key": "cookie"}]}, set()),
        # an empty key names nothing
        ({"headers": [{"key": ""}]}, set()),
        (None, set()),
    ],
)
def test_named_headers(request_: dict[str, Any] | None, expected: set[str]) -> None:
    assert named_headers(compile_rules(request_)) == expected


@pytest.mark.parametrize(
    ("body", "rule", "problems"),
    [
        # a list body: rules read into it, var has nowhere to go
        ([{"id": "1"}], {"key": "[0].id", "required": True, "var": "first"}, []),
        (
            [{"id": "1"}],
            {"key": "[1].id", "required": True, "var": "second"},
            [{"source": "body", "key": "[1].id", "message": "required"}],
        ),
        # a string body (text/*): no key resolves in it
        (
            "hello",
            {"key": "id", "required": True, "var": "v"},
            [{"source": "body", "key": "id", "message": "required"}],
        ),
        ("hello", {"key": "id", "var": "v"}, []),
        # the empty path is the whole body
        ("hello", {"key": "", "type": "string", "var": "v"}, []),
        (
            "hello",
            {"key": "", "type": "integer", "var": "v"},
            [{"source": "body", "key": "", "message": "expected integer, got 'hello'"}],
        ),
        ([1, 2], {"key": "", "type": "array", "var": "v"}, []),
    ],
)
def test_body_that_is_not_an_object(
    body: Any, rule: dict[str, Any], problems: list[dict[str, Any]]
) -> None:
    data: dict[str, Any] = {"body": body}
    before = repr(body)
    assert apply("body", rule, data) == problems
    assert repr(data["body"]) == before  # nothing placed, nothing broken


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        # a coerced value inside a list body replaces the original, as in an object body
        (["7"], "[0]", [7]),
        ([{"n": "7"}], "[0].n", [{"n": 7}]),
    ],
)
def test_coercion_in_a_body_that_is_not_an_object(body: Any, key: str, expected: Any) -> None:
    data: dict[str, Any] = {"body": body}
    assert apply("body", {"key": key, "type": "integer"}, data) == []
    assert data["body"] == expected


def test_missing_source_is_empty() -> None:
    # a data dict without a source: rules on it see nothing
    data: dict[str, Any] = {"body": {}}
    assert apply("query", {"key": "page", "required": True}, data) == [
        {"source": "query", "key": "page", "message": "required"}
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"type": "block_actions"}', {"type": "block_actions"}),  # an object in a string
        ("[1, 2]", [1, 2]),  # a list
        ("42", 42),  # any JSON value
        ('"text"', "text"),  # a JSON string is its text
        ({"type": "x"}, {"type": "x"}),  # already structured: kept
        (7, 7),  # a number is kept too
    ],
)
def test_json_rules_parse_a_field_holding_json(value: Any, expected: Any) -> None:
    data: dict[str, Any] = {"body": {"payload": value}}

    assert apply("body", {"key": "payload", "type": "json"}, data) == []
    assert data["body"]["payload"] == expected


@pytest.mark.parametrize(
    "value",
    [
        "{not json",  # broken
        "",  # empty text is no JSON value
        "[" * 100 + "]" * 100,  # nested deeper than the JSON depth limit
    ],
)
def test_json_rules_refuse_text_that_is_not_json(value: str) -> None:
    data: dict[str, Any] = {"body": {"payload": value}}

    [problem] = apply("body", {"key": "payload", "type": "json"}, data)

    assert problem["message"].startswith("expected JSON text, got ")


def test_json_rules_run_first_so_others_read_into_them() -> None:
    # Listed after the rule that reads into it, as a parseExample of the parsed value gives.
    rules = {"body": [{"key": "payload.type", "var": "kind"}, {"key": "payload", "type": "json"}]}
    data: dict[str, Any] = {"body": {"payload": '{"type": "view_submission"}'}}

    assert apply_rules(compile_rules(rules), data) == []
    assert data["body"]["kind"] == "view_submission"


def test_a_json_rule_with_the_empty_key_parses_the_whole_body() -> None:
    # AWS SNS sends its JSON as text/plain: the body arrives as a string.
    data: dict[str, Any] = {"body": '{"Type": "Notification", "Message": "{\\"a\\": 1}"}'}
    rules = {"body": [{"key": "", "type": "json"}, {"key": "Message", "type": "json"}]}

    assert apply_rules(compile_rules(rules), data) == []
    assert data["body"] == {"Type": "Notification", "Message": {"a": 1}}
