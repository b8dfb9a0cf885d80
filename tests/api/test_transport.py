"""GraphQL over HTTP (docs/api.md, Transport): the spec's own audit suite (graphql-http) run
against a real server, and the answers it checks, one by one, through the app."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import reference
from tests.api.client import AUTH
from tests.processes import serve
from tests.support import TEST_ADMIN_TOKEN, Gateway


async def test_the_graphql_over_http_audit_finds_nothing_missing(
    database_url: str, tmp_path: Path
) -> None:
    # Introspection on: the audit's operations query the schema (`__type`).
    async with serve(database_url, tmp_path, GATEWAY_INTROSPECTION="true") as server:
        [result] = await reference.run_async(
            [
                {
                    "kind": "graphql-audit",
                    "url": f"{server.base_url}/graphql",
                    "token": TEST_ADMIN_TOKEN,
                }
            ]
        )

    audits = result["value"]
    missed = [f"{a['id']} {a['name']}: {a['reason']}" for a in audits if a["status"] != "ok"]
    assert len(audits) > 50
    # Only MAYs are left: operations in GET requests, which the gateway refuses on purpose
    # (a GET is a "simple" cross-site request; docs/api.md, Transport).
    assert all(" MAY " in line and "GET" in line for line in missed), missed


@pytest.mark.parametrize(
    "content_type",
    [
        None,  # no type at all
        "text/plain",  # what a cross-site form or fetch may send without a preflight
        "application/x-www-form-urlencoded",  # a plain HTML form
        "multipart/form-data; boundary=x",  # a form with files
        "application/graphql",  # the old GraphQL body type
        "application/jsonx",  # not JSON, whatever it starts with
    ],
)
async def test_a_post_without_a_json_body_type_is_refused_before_it_runs(
    gateway: Gateway, content_type: str | None
) -> None:
    headers = {**AUTH, **({"content-type": content_type} if content_type else {})}

    response = await gateway.client.post(
        "/graphql", content=b'{"query": "{ nodeTypes { name } }"}', headers=headers
    )

    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_a_cached_answer_is_not_served_to_a_post_without_a_json_body_type(
    gateway: Gateway,
) -> None:
    body = b'{"query": "{ nodeTypes { name } }"}'
    json_headers = {**AUTH, "content-type": "application/json"}
    first = await gateway.client.post("/graphql", content=body, headers=json_headers)

    second = await gateway.client.post(
        "/graphql", content=body, headers={**AUTH, "content-type": "text/plain"}
    )

    assert (first.status_code, second.status_code) == (200, 415)


GRAPHQL_RESPONSE = "application/graphql-response+json"

ANSWERS = [
    # (accept, body, status, content type, has data)
    (GRAPHQL_RESPONSE, '{"query": "{ nodeTypes { name } }"}', 200, GRAPHQL_RESPONSE, True),
    (GRAPHQL_RESPONSE, '{"query": "{ nodeTypes { "}', 400, GRAPHQL_RESPONSE, False),  # parse error
    (GRAPHQL_RESPONSE, '{"query": "{ nope }"}', 400, GRAPHQL_RESPONSE, False),  # invalid
    (GRAPHQL_RESPONSE, '{"query": "{ workflow(key: 1) { key } }"}', 400, GRAPHQL_RESPONSE, False),
    (
        GRAPHQL_RESPONSE,
        '{"query": "{ workflow(key: \\"none\\") { key } }"}',
        200,
        GRAPHQL_RESPONSE,
        True,
    ),
    (
        f"{GRAPHQL_RESPONSE}, application/json;q=0.9",
        '{"query": "{ nope }"}',
        400,
        GRAPHQL_RESPONSE,
        False,
    ),
    (
        f"application/json, {GRAPHQL_RESPONSE};q=0.5",
        '{"query": "{ nope }"}',
        200,
        "application/json",
        False,
    ),
    ("application/json", '{"query": "{ nope }"}', 200, "application/json", False),  # legacy: 200
    ("*/*", '{"query": "{ nope }"}', 200, "application/json", False),  # no preference: legacy
    (None, '{"query": "{ nope }"}', 200, "application/json", False),  # no Accept: legacy
    (GRAPHQL_RESPONSE, "not json", 400, GRAPHQL_RESPONSE, False),  # not JSON at all
]


@pytest.mark.parametrize(("accept", "body", "status", "media_type", "has_data"), ANSWERS)
async def test_answers_follow_the_accepted_media_type(
    gateway: Gateway, accept: str | None, body: str, status: int, media_type: str, has_data: bool
) -> None:
    headers = {**AUTH, "content-type": "application/json", **({"accept": accept} if accept else {})}

    response = await gateway.client.post("/graphql", content=body.encode(), headers=headers)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(media_type)
    if body != "not json":
        assert ("data" in response.json()) is has_data
