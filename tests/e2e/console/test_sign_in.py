"""Journey 1: signing in with an admin token, a wrong one, signing out, and a token revoked
while the console is open."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.console.journeys import Served, sign_in

CREATE_TOKEN = 'mutation { createApiToken(name: "e2e") { token apiToken { id } } }'
REVOKE_TOKEN = "mutation($id: ID!) { revokeApiToken(id: $id) }"


def test_a_wrong_token_shows_a_message_and_no_data(page: Page) -> None:
    page.goto("/")  # redirected to /console/
    page.get_by_label("Admin token").fill("gw_not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("This token was refused")
    expect(page.get_by_role("table")).to_have_count(0)
    expect(page.get_by_role("heading", name="Sign in to the gateway")).to_be_visible()


def test_signing_in_shows_the_workflows_and_signing_out_forgets_the_token(
    page: Page, served: Served
) -> None:
    sign_in(page, served.token)
    expect(page.get_by_role("link", name="GitHub event router")).to_be_visible()
    assert served.token not in page.url
    assert page.evaluate("sessionStorage.getItem('gateway.token')") == served.token

    page.reload()  # the session survives a reload of the tab
    expect(page.get_by_role("link", name="Payment provider events")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to the gateway")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('gateway.token')") is None


def test_a_revoked_token_brings_the_sign_in_back_with_a_reason(page: Page, served: Served) -> None:
    created = served.data(CREATE_TOKEN)["createApiToken"]
    sign_in(page, created["token"])
    served.data(REVOKE_TOKEN, id=created["apiToken"]["id"])

    page.get_by_role("link", name="Executions").click()
    expect(page.get_by_role("heading", name="Sign in to the gateway")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("The server refused your token")
