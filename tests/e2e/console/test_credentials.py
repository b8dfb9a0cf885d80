"""The console's credentials screen: a credential saved with its secret typed in, listed by
name and type, its secret never on the page again; deleted after a confirmation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.journeys import Served, check_screen, sign_in

SECRET = "tok_console_9b8a7c6d5e4f3a2b1c0d"


@pytest.mark.timeout(120)
def test_save_list_and_delete_a_credential(page: Page, served: Served) -> None:
    sign_in(page, served.token)
    page.get_by_role("link", name="Credentials").click()
    expect(page.get_by_role("heading", name="Credentials", level=1)).to_be_visible()

    page.get_by_label("Name").fill("crm")
    page.get_by_label("Type").select_option("bearer")
    page.get_by_label("Secret").fill(SECRET)
    page.get_by_role("button", name="Save credential").click()

    expect(page.get_by_role("status")).to_contain_text("Credential crm saved.")
    row = page.get_by_role("row").filter(has_text="crm")
    expect(row).to_contain_text("bearer")
    assert SECRET not in page.content()
    check_screen(page, "11-credentials")

    row.get_by_role("button", name="Delete credential crm").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No credentials.")).to_be_visible()
    assert served.data("{ credentials { name } }")["credentials"] == []
