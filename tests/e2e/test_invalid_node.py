"""Journey 5: an invalid node config shows the API's own message next to the config field,
and nothing is saved."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.console import CREATE, WORKFLOW, Served, sign_in

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
