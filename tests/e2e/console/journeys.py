"""What the journeys share: the served gateway's API (to set up and to check, as a script
would), signing in, and the checks run on every screen (axe-core, the keyboard, a
screenshot)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.support import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "build" / "screenshots"


@dataclass
class Served:
    base_url: str
    token: str
    log: list[str]

    def graphql(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        """The whole answer of an operation, as any API client would send it."""
        answer = httpx.post(
            f"{self.base_url}/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token or self.token}"},
            timeout=10,
        )
        result: dict[str, Any] = answer.json()
        return result

    def data(self, query: str, **variables: Any) -> dict[str, Any]:
        answer = self.graphql(query, **variables)
        assert "errors" not in answer, answer["errors"]
        data: dict[str, Any] = answer["data"]
        return data


CREATE = """
mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id version trigger { url } } }
"""
WORKFLOW = """
query($id: ID!) {
  workflow(id: $id) {
    version enabled
    trigger { url parseRules { source key alias type required } }
    nodes { key type upstream branchIndex config }
  }
}
"""


def sign_in(page: Page, token: str) -> None:
    page.goto("/console/")
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Workflows", level=1)).to_be_visible()


def open_workflow(page: Page, workflow_id: str, tab: str) -> None:
    page.goto(f"/console/workflows/{workflow_id}/{tab}")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page: Page, screen: str) -> None:
    """No serious or critical axe-core violation on the screen as it is now."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make console` (npm ci) first")
    # Evaluated through the DevTools protocol, which the page's CSP does not govern.
    page.evaluate(AXE.read_text() + "\n;0")
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    described = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:5])
        for v in bad
    ]
    assert not described, f"{screen}:\n" + "\n".join(described)


MARK_CONTROLS = """
() => {
  const dialog = document.querySelector('dialog[open]');
  const scope = dialog || document;
  const controls = [...scope.querySelectorAll(
    'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"]), [role="button"]'
  )].filter((el) => el.getClientRects().length && !el.disabled && !el.closest('[hidden]')
    && (dialog || !el.closest('dialog:not([open])')) && getComputedStyle(el).visibility !== 'hidden');
  controls.forEach((el, i) => el.setAttribute('data-control', String(i)));
  // One stop per radio group and per tab list: the rest are reached with the arrow keys.
  const groups = {};
  return controls.map((el, i) => {
    let group = null;
    if (el.type === 'radio') group = 'radio:' + el.name;
    if (el.getAttribute('role') === 'tab') group = 'tabs:' + el.parentElement.getAttribute('aria-label');
    return {i, group, name: el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40) || el.id || el.tagName};
  });
}
"""


def assert_keyboard_reachable(page: Page, screen: str) -> None:
    """Every visible control is reached by pressing Tab (radio groups and tab lists once)."""
    controls: list[dict[str, Any]] = page.evaluate(MARK_CONTROLS)
    wanted = {c["group"] or str(c["i"]) for c in controls}
    group_of = {str(c["i"]): c["group"] or str(c["i"]) for c in controls}
    reached: set[str] = set()
    page.evaluate("document.activeElement?.blur()")
    for _ in range(len(controls) + 15):
        page.keyboard.press("Tab")
        mark = page.evaluate("document.activeElement?.getAttribute('data-control')")
        if mark is not None:
            reached.add(group_of[mark])
        if reached >= wanted:
            break
    missed = [c["name"] for c in controls if (c["group"] or str(c["i"])) not in reached]
    assert not missed, f"{screen}: not reachable with Tab: {json.dumps(missed)}"


def check_screen(page: Page, name: str) -> None:
    assert_accessible(page, name)
    assert_keyboard_reachable(page, name)
    screenshot(page, name)
