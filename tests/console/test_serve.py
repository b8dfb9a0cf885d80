"""The console's routes: `/` → `/console/`, the app's files with their caching, any page path
answered with index.html, GraphiQL's page from the package, and the security headers."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from gateway.console.serve import STATIC
from tests.api.client import AUTH
from tests.conftest import SettingsFactory
from tests.support import Gateway, running_gateway

pytestmark = pytest.mark.sqlite_only
HTML = {"accept": "text/html"}


def assert_secured(headers: Mapping[str, str]) -> None:
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


async def test_the_root_and_the_bare_path_redirect_to_the_console(gateway: Gateway) -> None:
    for path in ("/", "/console"):
        answer = await gateway.client.get(path)
        assert answer.status_code == 302 and answer.headers["location"] == "/console/"
        assert_secured(answer.headers)


@pytest.mark.parametrize(
    "path",
    [
        "/console/",  # the app
        "/console/workflows/12/nodes",  # a page of the app, opened directly or reloaded
        "/console/executions/0b9c1d8e-6f0e-4c51-9f7e-2d9a1c3b4e5f",
    ],
)
async def test_every_page_path_is_the_app_and_is_revalidated(gateway: Gateway, path: str) -> None:
    answer = await gateway.client.get(path)
    assert answer.status_code == 200
    assert answer.text == (STATIC / "index.html").read_text()
    assert answer.headers["cache-control"] == "no-cache"
    assert_secured(answer.headers)


async def test_assets_are_cached_for_good_and_a_missing_one_is_404(gateway: Gateway) -> None:
    index = (STATIC / "index.html").read_text()
    scripts = re.findall(r'src="(/console/assets/[^"]+\.js)"', index)
    assert scripts, index
    answer = await gateway.client.get(scripts[0])
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["content-type"].startswith("text/javascript")
    assert_secured(answer.headers)
    assert (await gateway.client.get("/console/assets/missing.js")).status_code == 404


async def test_the_pages_load_nothing_from_another_origin() -> None:
    for page in ("index.html", "graphiql.html"):
        html = (STATIC / page).read_text()
        references = re.findall(r'(?:src|href)="([^"]*)"', html)
        assert references and all(r.startswith(("/console/", "data:")) for r in references)
        assert "<script>" not in html  # no inline script (the CSP would refuse it)


async def test_graphiql_is_served_from_the_package_when_introspection_is_on(
    settings_factory: SettingsFactory,
) -> None:
    async with running_gateway(settings_factory(introspection=True)) as gateway:
        page = await gateway.client.get("/graphql", headers=HTML)  # the page needs no token
        assert page.status_code == 200 and page.text == (STATIC / "graphiql.html").read_text()
        assert_secured(page.headers)
        operation = await gateway.client.post(
            "/graphql", json={"query": "{ nodeTypes { name } }"}, headers=AUTH
        )
        assert operation.status_code == 200 and "errors" not in operation.json()


async def test_without_introspection_get_graphql_is_the_api_s_answer(gateway: Gateway) -> None:
    assert (await gateway.client.get("/graphql", headers=HTML)).status_code == 401
    assert (await gateway.client.get("/graphql", headers={**HTML, **AUTH})).status_code == 404
