from __future__ import annotations

import datetime
import math
import uuid
from typing import Any

import pytest

from gateway.core.errors import TemplateError
from gateway.engine.templates import ROOTS, Reference, compile_template, find_references
from tests import reference

SCOPE: dict[str, Any] = {
    "$context": {
        "headers": {"x-request-id": "req-1", "content-type": "application/json"},
        "query": {"filter": [{"tag": "new"}, {"tag": "old"}]},
        "body": {
            "id": 7,
            "price": 9.5,
            "paid": True,
            "refunded": False,
            "note": None,
            "name": "Ada",
            "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}],
            "customer": {"email": "ada@example.com"},
        },
    },
    "$jobsMapByNodeKey": {"lookup": {"data": {"a.b": "dotted", "list": [1, 2]}}},
    "$scopes": {"loop": {"item": "x", "index": 0}},
    "$env": {"REGION": "eu"},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{$context.body.id}}", 7),  # int keeps its type
        ("{{ $context.body.price }}", 9.5),  # float, spaces inside braces
        ("{{$context.body.paid}}", True),  # bool
        ("{{$context.body.note}}", None),  # explicit null
        ("{{$context.body.name}}", "Ada"),  # string
        ("{{$context.body.customer}}", {"email": "ada@example.com"}),  # object
        ("{{$context.body.items.sku}}", ["a", "b"]),  # mapping through an array
        ("{{$context.headers.x-request-id}}", "req-1"),  # dash in a segment
        ("{{$context.query.filter[0].tag}}", "new"),  # index in a path
        ('{{ $jobsMapByNodeKey.lookup.data["a.b"] }}', "dotted"),  # quoted key
        ("{{$scopes.loop.index}}", 0),  # loop scope, falsy value kept
        ("{{$env.REGION}}", "eu"),  # environment root
        ("{{$context.body.missing.deeper}}", None),  # missing path
        ("{{$system.now}}", None),  # root absent from the scope
        ("{{$context}}", SCOPE["$context"]),  # a root alone
    ],
)
def test_exact_placeholder_keeps_type(template: str, expected: Any) -> None:
    assert compile_template(template).render(SCOPE) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("id={{$context.body.id}}", "id=7"),  # int
        ("p={{$context.body.price}}", "p=9.5"),  # float
        ("{{$context.body.paid}}/{{$context.body.refunded}}", "true/false"),  # bools
        ("[{{$context.body.note}}]", "[]"),  # null is empty
        ("[{{$context.body.missing}}]", "[]"),  # missing is empty
        ("hi {{$context.body.name}}!", "hi Ada!"),  # string as-is
        ("c={{$context.body.customer}}", 'c={"email":"ada@example.com"}'),  # compact JSON
        ("l={{$jobsMapByNodeKey.lookup.data.list}}", "l=1,2"),  # a list's items joined (JS)
        (" {{$context.body.id}}", " 7"),  # whitespace outside braces makes it text
        ("{{$context.body.id}}{{$context.body.id}}", "77"),  # two placeholders
        ("{{name}} {{ $context.body.name }}", "{{name}} Ada"),  # non-$ braces stay literal
        ("{{{$context.body.id}}}", "{7}"),  # extra braces are literal
        ("{{ 1 + 2 }} {{}}", "{{ 1 + 2 }} {{}}"),  # no placeholder at all
    ],
)
def test_mixed_string_renders_text(template: str, expected: str) -> None:
    assert compile_template(template).render(SCOPE) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),  # null
        ("s", "s"),  # string
        (True, "true"),  # bool true
        (False, "false"),  # bool false
        (0, "0"),  # zero
        (2**53 + 1, str(2**53 + 1)),  # integers stay exact (JavaScript would round)
        (2**70, "1.1805916207174113e+21"),  # from 1e21 on, JavaScript's exponent form
        (1.0, "1"),  # a whole float reads as JavaScript writes it
        (1e16, "10000000000000000"),  # no exponent below 1e21
        (1.5e-7, "1.5e-7"),  # below 1e-6 it has one
        (math.inf, "Infinity"),  # non-finite as JS spells it
        (-math.inf, "-Infinity"),  # negative infinity
        (math.nan, "NaN"),  # not a number
        ({"a": [1, None]}, '{"a":[1,null]}'),  # nested compact JSON
        ([], ""),  # empty list: no items to join
        ([1, None, [2, 3]], "1,,2,3"),  # items' text joined, nested lists too
        ([1, {"a": 1}], '[1,{"a":1}]'),  # a list holding an object: JSON
        ({1: "x"}, '{"1":"x"}'),  # non-str keys
        (datetime.date(2024, 5, 1), "2024-05-01"),  # orjson string, unquoted
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),  # UUID unquoted
        (b"raw", "b'raw'"),  # orjson cannot encode: str()
    ],
)
def test_mixed_text_of_every_type(value: Any, text: str) -> None:
    template = compile_template("<{{$scopes.v}}>")
    assert template.render({"$scopes": {"v": value}}) == f"<{text}>"


def test_strings_anywhere_are_templates() -> None:
    template = compile_template(
        {
            "id": "{{$context.body.id}}",
            "nested": [{"who": "{{$context.body.name}}"}, 3, None, "plain"],
            "{{$context.body.name}}": "key from text",
            "user-{{$context.body.id}}": True,
            "{{name}}": "{{name}}",
        }
    )
    assert template.render(SCOPE) == {
        "id": 7,
        "nested": [{"who": "Ada"}, 3, None, "plain"],
        "Ada": "key from text",
        "user-7": True,
        "{{name}}": "{{name}}",
    }


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("{{$context.body.id}}", "7"),  # an exact placeholder key renders to text
        ("{{$context.body.note}}", ""),  # null key is the empty string
        ("{{$context.body.customer}}", '{"email":"ada@example.com"}'),  # object key as JSON
    ],
)
def test_keys_render_to_text(key: str, expected: str) -> None:
    assert compile_template({key: 1}).render(SCOPE) == {expected: 1}


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, {"b": "no placeholder"}], "c": None},  # nested object
        ["{{name}}", "{ {$context} }"],  # braces that are not placeholders
        "plain",  # string
        42,  # number
        None,  # null
    ],
)
def test_constant_renders_itself(value: Any) -> None:
    template = compile_template(value)
    assert template.is_constant
    assert template.references == ()
    assert template.render(SCOPE) is value


def test_constant_parts_are_shared_not_copied() -> None:
    fixed = {"deep": [1, 2]}
    template = compile_template({"fixed": fixed, "id": "{{$context.body.id}}"})
    rendered = template.render(SCOPE)
    assert not template.is_constant
    assert rendered["fixed"] is fixed


def test_render_does_not_mutate_the_source() -> None:
    source = {"a": ["{{$context.body.customer}}"], "{{$context.body.name}}": 1}
    template = compile_template(source)
    first = template.render({"$context": {"body": {"customer": {"e": 1}, "name": "Ada"}}})
    first["a"].append("added")
    first["Ada"] = 2
    assert source == {"a": ["{{$context.body.customer}}"], "{{$context.body.name}}": 1}
    assert template.render({"$context": {"body": {"name": "Bo"}}}) == {"a": [None], "Bo": 1}


def test_template_is_hashable() -> None:
    template = compile_template({"a": "{{$context.body.id}}"})
    assert {template: 1}[template] == 1


def test_references_in_order_once_each() -> None:
    value = {
        "{{$env.REGION}}": ["{{$context.body.id}}", "x {{$context.headers.x-request-id}}"],
        "again": "{{$context.body.id}} {{$context}}",
        "quoted": '{{$jobsMapByNodeKey.lookup.data["a.b"]}}',
        "literal": "{{name}}",
    }
    expected = [
        Reference("$env", ("REGION",)),
        Reference("$context", ("body", "id")),
        Reference("$context", ("headers", "x-request-id")),
        Reference("$context", ()),
        Reference("$jobsMapByNodeKey", ("lookup", "data", "a.b")),
    ]
    assert find_references(value) == expected
    assert compile_template(value).references == tuple(expected)


@pytest.mark.parametrize(
    ("reference", "text"),
    [
        (Reference("$context", ()), "$context"),  # root alone
        (Reference("$context", ("body", 0, "id")), "$context.body[0].id"),  # index
        (Reference("$jobsMapByNodeKey", ("n", "a.b")), '$jobsMapByNodeKey.n["a.b"]'),  # quoted
    ],
)
def test_reference_text(reference: Reference, text: str) -> None:
    assert str(reference) == text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{{$foo.bar}}", "unknown root '$foo'"),  # unknown root
        ("x {{ $Context.a }}", "unknown root '$Context'"),  # roots are case-sensitive
        ({"k": ["{{$}}"]}, "unknown root '$'"),  # a bare dollar, deep inside
        ({"{{$nope}}": 1}, "unknown root '$nope'"),  # in a key
        ("{{$context..a}}", "invalid path '$context..a' at position 9"),  # empty segment
        ("a {{$context.body[x]}} b", "expected an index or a quoted key"),  # bad bracket
        ("{{$context.a b}}", "unexpected ' '"),  # whitespace inside the path
        ('{{$context["a]}}', "unclosed"),  # unclosed quote
    ],
)
def test_compile_errors_name_the_text(value: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=r"\{\{") as caught:
        compile_template(value)
    assert message in str(caught.value)


def test_unknown_root_lists_valid_roots() -> None:
    with pytest.raises(TemplateError) as caught:
        compile_template("{{$foo}}")
    assert all(root in str(caught.value) for root in ROOTS)


# Values in a mixed string, rendered by NocoBase's own templates as well.
TEXTS: list[tuple[Any, str]] = [
    (None, ""),  # null is empty
    ("s", "s"),  # text as it is
    (True, "true"),  # booleans by name
    (0, "0"),
    (10.0, "10"),  # a whole float as an integer
    (1.5, "1.5"),
    (0.1 + 0.2, "0.30000000000000004"),  # the shortest digits that read back
    (1e21, "1e+21"),  # exponent form from 1e21
    (123456789012345680000.0, "123456789012345680000"),  # and not below
    (1.5e-7, "1.5e-7"),  # below 1e-6
    (0.000001, "0.000001"),  # not from 1e-6 on
    (-2.5, "-2.5"),
    ([1, None, [2, 3]], "1,,2,3"),  # a list's items joined, nested ones too
    ([], ""),
    (["a", True], "a,true"),
]


@pytest.fixture(scope="module")
def nocobase_texts() -> list[dict[str, Any]]:
    tasks = [
        {
            "kind": "template",
            "template": "<{{$context.body.v}}>",
            "scope": {"$context": {"body": {"v": v}}},
        }
        for v, _ in TEXTS
    ]
    return reference.run(tasks)


@pytest.mark.parametrize(("index", "case"), list(enumerate(TEXTS)))
def test_mixed_text_reads_as_nocobase_writes_it(
    nocobase_texts: list[dict[str, Any]], index: int, case: tuple[Any, str]
) -> None:
    value, text = case
    rendered = compile_template("<{{$context.body.v}}>").render(
        {"$context": {"body": {"v": value}}}
    )

    assert nocobase_texts[index]["value"] == rendered == f"<{text}>"


@pytest.mark.parametrize(
    ("value", "gateway", "nocobase"),
    [
        ({"a": 1}, '<{"a":1}>', "<[object Object]>"),  # an object: JSON, not JavaScript's name
        ([{"a": 1}], '<[{"a":1}]>', "<[object Object]>"),  # and a list holding one
        (2**53 + 1, "<9007199254740993>", "<9007199254740992>"),  # integers stay exact
    ],
)
def test_mixed_text_differs_from_nocobase_where_documented(
    value: Any, gateway: str, nocobase: str
) -> None:
    # docs/nocobase.md, Templates: the two deliberate differences.
    [theirs] = reference.run(
        [
            {
                "kind": "template",
                "template": "<{{$context.body.v}}>",
                "scope": {"$context": {"body": {"v": value}}},
            }
        ]
    )
    rendered = compile_template("<{{$context.body.v}}>").render(
        {"$context": {"body": {"v": value}}}
    )

    assert (rendered, theirs["value"]) == (gateway, nocobase)


def test_ctx_is_nocobase_2s_alias_of_the_roots() -> None:
    context = {"body": {"a": [1, 2]}}
    template = {"whole": "{{ctx.$context.body.a}}", "text": "n={{ ctx.$context.body.a.length }}"}
    # NocoBase's processor puts the roots under `ctx` as well (getScope).
    [theirs] = reference.run(
        [
            {
                "kind": "template",
                "template": template,
                "scope": {"$context": context, "ctx": {"$context": context}},
            }
        ]
    )

    assert compile_template(template).render({"$context": context}) == theirs["value"]
    assert theirs["value"] == {"whole": [1, 2], "text": "n=2"}


def test_an_integer_beyond_a_double_reads_infinity_in_text() -> None:
    assert (
        compile_template("x={{$context.v}}").render({"$context": {"v": -(10**400)}})
        == "x=-Infinity"
    )
