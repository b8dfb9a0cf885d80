"""parseExample (docs/webhooks.md, parseExample): every path of a pasted example, parents first, with JSON types,
example values and a suggested rule type — and each path, saved as a parse rule, resolves
on a real webhook call to the example's value."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from tests.api.client import create, data, error
from tests.support import PAYLOADS, Gateway

PARSE = """
mutation($source: ParseSource!, $example: String!) {
  parseExample(source: $source, example: $example) { path type example ruleType }
}
"""
QUERY_PARSE = PARSE.replace("mutation", "query")

CASES = [
    # the example of docs/webhooks.md, parseExample: parents before children
    (
        "BODY",
        '{"a":1,"b":{"c":2}}',
        [
            ("a", "number", 1, "integer"),
            ("b", "object", {"c": 2}, "object"),
            ("b.c", "number", 2, "integer"),
        ],
    ),
    # arrays get indices; null has no rule type; 1.5 is a number
    (
        "BODY",
        '{"items":[{"id":null,"p":1.5}]}',
        [
            ("items", "array", [{"id": None, "p": 1.5}], "array"),
            ("items[0]", "object", {"id": None, "p": 1.5}, "object"),
            ("items[0].id", "null", None, None),
            ("items[0].p", "number", 1.5, "number"),
        ],
    ),
    # a key that is not a bare name is quoted; a top-level array starts with an index
    (
        "BODY",
        '[{"a.b":true}]',
        [("[0]", "object", {"a.b": True}, "object"), ('[0]["a.b"]', "boolean", True, "boolean")],
    ),
    # a whole URL: qs semantics, values are text, the rule type reads the text
    (
        "QUERY",
        "https://shop.example/hook?page=2&f[0][tag]=x&on=true#top",
        [
            ("page", "string", "2", "integer"),
            ("f", "array", [{"tag": "x"}], "array"),
            ("f[0]", "object", {"tag": "x"}, "object"),
            ("f[0].tag", "string", "x", "string"),
            ("on", "string", "true", "boolean"),
        ],
    ),
    # ?a=1 and a=1 alike; repeated keys become a list
    (
        "QUERY",
        "?a=1&a=2.5",
        [
            ("a", "array", ["1", "2.5"], "array"),
            ("a[0]", "string", "1", "integer"),
            ("a[1]", "string", "2.5", "number"),
        ],
    ),
    ("QUERY", "a=007", [("a", "string", "007", "string")]),
    # a header block: request line skipped, names lower-cased, repeats joined
    (
        "HEADERS",
        "POST /hook HTTP/1.1\nX-GitHub-Event: push\nX-Tag: a\nx-tag: b\n\n",
        [("x-github-event", "string", "push", "string"), ("x-tag", "string", "a, b", "string")],
    ),
]

BAD = [
    ("BODY", '{"a": }', "not valid JSON"),
    ("BODY", '"just text"', "a JSON string"),
    ("BODY", "  ", "empty"),
    ("BODY", "[" * 70 + "]" * 70, "nested deeper than 64"),
    ("QUERY", "https://shop.example/hook", "no query string"),
    ("QUERY", "?", "no query string"),
    ("HEADERS", "X-Ok: 1\nthis is not a header", "line 2 is not a header"),
    ("HEADERS", "", "no headers"),
]


async def test_examples_become_paths_or_say_what_is_wrong(gateway: Gateway) -> None:
    for source, example, expected in CASES:
        found = (await data(gateway, PARSE, source=source, example=example))["parseExample"]
        assert [(p["path"], p["type"], p["example"], p["ruleType"]) for p in found] == expected
    assert await data(gateway, QUERY_PARSE, source="BODY", example="{}") == {"parseExample": []}
    for source, example, words in BAD:
        problem = await error(gateway, PARSE, source=source, example=example)
        assert problem["extensions"]["code"] == "BAD_USER_INPUT", example
        assert problem["extensions"]["field"] == "example"
        assert words in problem["message"], (words, problem["message"])


TRICKY_BODY = {"a.b": 1, "sp ace": [[1, 2], {"x": None}], 'q"uote': "ç", "0": False, "-": {"": 3}}
HEADER_BLOCK = "X-Request-Id: 12\nAuthorization: Bearer abc\nX-Many: 1\nX-Many: 2\nContent-Type: application/json"
ROUND_TRIPS = [
    ("BODY", (PAYLOADS / "github" / "push.json").read_text()),
    ("BODY", orjson.dumps(TRICKY_BODY).decode()),
    ("QUERY", "https://x.example/h?user[name]=ann&user[roles][0]=admin&n=3&e=&sp%20ace=a%2Bb"),
    ("HEADERS", HEADER_BLOCK),
]  # a GitHub payload, keys that need quoting, nested qs, repeated and hidden headers


def echo_workflow(key: str, source: str, paths: list[str]) -> dict[str, Any]:
    """A sync workflow with one rule per path (copied to `v<i>` by `var`) and a response
    that answers `{v<i>: value}`: what the rules resolved on the real call."""
    where = source.lower()
    rules = [{"key": path, "var": f"v{i}"} for i, path in enumerate(paths)]
    body = {f"v{i}": f"{{{{$context.{where}.v{i}}}}}" for i in range(len(paths))}
    return {
        "key": key,
        "sync": True,
        "trigger": {"request": {where: rules}},
        "nodes": [{"key": "echo", "type": "response", "config": {"statusCode": 200, "body": body}}],
    }


async def send(gateway: Gateway, url: str, source: str, example: str) -> httpx.Response:
    """A real webhook call carrying the example."""
    if source == "BODY":
        headers = {"content-type": "application/json"}
        return await gateway.client.post(url, content=example, headers=headers)
    if source == "QUERY":
        return await gateway.client.post(url + "?" + example.split("?", 1)[1])
    pairs = [line.split(":", 1) for line in example.splitlines()]
    block = [(name.strip(), value.strip()) for name, value in pairs]
    return await gateway.client.post(url, headers=block, content=b"{}")


async def test_every_path_resolves_at_runtime_to_its_example(gateway: Gateway) -> None:
    for n, (source, example) in enumerate(ROUND_TRIPS):
        found = (await data(gateway, PARSE, source=source, example=example))["parseExample"]
        created = await create(
            gateway, echo_workflow(f"echo{n}", source, [p["path"] for p in found])
        )
        url = created["trigger"]["url"].removeprefix("http://127.0.0.1:8000")
        answer = await send(gateway, url, source, example)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {f"v{i}": p["example"] for i, p in enumerate(found)}
