"""Editing: an invalid node config shows the API's own message next to the config field and
saves nothing (journey 5); the trigger panel; searching the list."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.console.journeys import CREATE, WORKFLOW, Served, sign_in

DOCUMENT = {
    "key": "console-invalid",
    "sync": True,
    "nodes": [{"key": "reply", "type": "response", "config": {"statusCode": 200}}],
}
UPDATE = "mutation($id: ID!, $c: JSON!) { updateNode(id: $id, input: {config: $c}) { id } }"
NODE_ID = "query($id: ID!) { workflow(id: $id) { nodes { id } } }"
INVALID = {"statusCode": 99999}


def test_an_invalid_config_is_explained_next_to_the_field_and_saves_nothing(
    page: Page, served: Served
) -> None:
    created = served.data(CREATE, input=DOCUMENT)["createWorkflow"]
    before = served.data(WORKFLOW, id=created["id"])["workflow"]
    [node] = served.data(NODE_ID, id=created["id"])["workflow"]["nodes"]
    [refusal] = served.graphql(UPDATE, id=node["id"], c=INVALID)["errors"]  # what a script sees
    [problem] = refusal["extensions"]["problems"]

    sign_in(page, served.token)
    page.goto(f"/console/workflows/{created['id']}/nodes")
    page.get_by_role("button", name="reply response", exact=True).click()
    page.get_by_label("Config", exact=True).fill("statusCode: 99999\n")
    page.get_by_role("button", name="Save node").click()

    config = page.get_by_label("Config", exact=True)
    expect(config).to_have_attribute("aria-invalid", "true")
    next_to_it = page.locator("#node-config-problems")
    expect(next_to_it).to_contain_text(problem["message"])
    expect(page.get_by_role("alert").first).to_be_visible()
    assert served.data(WORKFLOW, id=created["id"])["workflow"] == before


TRIGGER = "query($id: ID!) { workflow(id: $id) { version trigger { basicAuthentication { enabled username } options } } }"


def test_the_trigger_panel_saves_its_sections_in_one_version_and_never_shows_the_password(
    page: Page, served: Served
) -> None:
    created = served.data(CREATE, input={**DOCUMENT, "key": "console-trigger"})["createWorkflow"]
    sign_in(page, served.token)
    page.goto(f"/console/workflows/{created['id']}/trigger")
    page.get_by_label("Callers must send a user name and password").check()
    page.get_by_label("User name", exact=True).fill("shop")
    page.get_by_label("Password", exact=True).fill("s3cret-from-the-console")
    page.get_by_label("Calls").fill("100")
    page.get_by_label("Per (seconds)").fill("60")
    page.get_by_role("button", name="Save trigger").click()
    expect(page.get_by_role("status").filter(has_text="Saved: version 2")).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    expect(page.get_by_label("Try it")).to_have_value(re.compile("-u 'shop:PASSWORD'"))

    trigger = served.data(TRIGGER, id=created["id"])["workflow"]
    assert trigger["version"] == 2
    assert trigger["trigger"]["basicAuthentication"] == {"enabled": True, "username": "shop"}
    assert trigger["trigger"]["options"]["rateLimit"] == {"rate": 100, "per": 60}
    url = created["trigger"]["url"]
    assert httpx.post(url, json={}, auth=("shop", "wrong")).status_code == 401
    assert httpx.post(url, json={}, auth=("shop", "s3cret-from-the-console")).status_code == 200


def test_searching_the_workflows_finds_them_by_key_or_title(page: Page, served: Served) -> None:
    sign_in(page, served.token)
    page.get_by_label("Search").fill("payment")
    expect(page.get_by_role("link", name="Payment provider events")).to_be_visible()
    expect(page.get_by_role("link", name="GitHub event router")).to_have_count(0)
    page.get_by_label("Answer").select_option(label="sync")
    expect(page.get_by_text("No workflow matches.")).to_be_visible()
