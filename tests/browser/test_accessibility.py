"""axe-core on every page: no serious or critical accessibility violation (labels, contrast, landmarks, names)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():
        if os.environ.get("BPM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{AXE} is missing: (cd tests/browser/axe && npm ci)")
        pytest.skip("axe-core is not installed: (cd tests/browser/axe && npm ci)")
    return AXE


def _violations(page, script: Path) -> list[str]:
    page.add_script_tag(path=str(script))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                          ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
                          ".map(v => ({id: v.id, help: v.help,"
                          "            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))")
    return [json.dumps(v) for v in found]


def test_no_page_has_a_serious_accessibility_violation(chromium, live_server, axe_script):
    # The check's script is injected; the pages' own CSP (no inline script) would refuse it, so this context skips it.
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    problems = {}
    page.goto(f"{live_server}/login")
    problems["/login"] = _violations(page, axe_script)
    page.fill("#username", "ann")
    page.fill("#password", "ann-demo")
    page.press("#password", "Enter")
    page.wait_for_url(f"{live_server}/inbox")
    page.goto(f"{live_server}/start/expense-approval")
    page.fill("#f-manager", "bob")
    page.fill("#f-amount", "2500")
    page.select_option("#f-currency", "EUR")
    page.fill("#f-description", "Accessibility check")
    page.click("button:has-text('Submit')")
    page.wait_for_url("**/requests**")
    urls = ["/inbox", "/inbox?view=group", "/start", "/start/expense-approval", "/requests", "/tokens", "/no-such-page"]
    for url in urls:
        page.goto(f"{live_server}{url}")
        problems[url] = _violations(page, axe_script)
    page.goto(f"{live_server}/start/expense-approval")
    page.click("button:has-text('Submit')")  # empty: a page full of field errors
    problems["start form with errors"] = _violations(page, axe_script)
    bob = context.new_page()
    bob.goto(f"{live_server}/login")
    bob.fill("#username", "admin")
    bob.fill("#password", "admin-demo")
    bob.press("#password", "Enter")
    bob.wait_for_url(f"{live_server}/inbox")
    bob.goto(f"{live_server}/admin")
    problems["/admin"] = _violations(bob, axe_script)
    context.close()
    context = chromium.new_context(bypass_csp=True)
    manager = context.new_page()
    manager.goto(f"{live_server}/login")
    manager.fill("#username", "bob")
    manager.fill("#password", "bob-demo")
    manager.press("#password", "Enter")
    manager.wait_for_url(f"{live_server}/inbox")
    manager.click(".task-title")
    problems["task page"] = _violations(manager, axe_script)
    manager.click("button[value=reject]")
    problems["task page with an error"] = _violations(manager, axe_script)
    context.close()
    assert {url: found for url, found in problems.items() if found} == {}
