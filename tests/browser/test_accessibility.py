"""axe-core on every page: no serious or critical accessibility violation (labels, contrast, landmarks, names)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import sign_in, start_expense

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
    problems = {}
    login = context.new_page()
    login.goto(f"{live_server}/login")
    problems["/login"] = _violations(login, axe_script)
    page = sign_in(context, live_server, "ann")
    start_expense(page, live_server, amount="2500", description="Accessibility check")
    page.wait_for_url("**/requests**")
    urls = ["/inbox", "/inbox?view=group", "/start", "/start/expense-approval", "/requests", "/tokens",
            "/notifications", "/absences", "/no-such-page"]
    for url in urls:
        page.goto(f"{live_server}{url}")
        problems[url] = _violations(page, axe_script)
    page.goto(f"{live_server}/requests")
    page.click(".request h2 a")
    problems["a request's page"] = _violations(page, axe_script)
    page.set_viewport_size({"width": 375, "height": 800})
    problems["a request's page at phone width"] = _violations(page, axe_script)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/absences")
    page.click("button:has-text('Record absence')")  # no substitute: the page with its errors
    problems["out of office with errors"] = _violations(page, axe_script)
    page.goto(f"{live_server}/requests")
    page.click("a:has-text('Withdraw request')")
    problems["the withdraw confirmation"] = _violations(page, axe_script)
    page.goto(f"{live_server}/start/expense-approval")
    page.click("button:has-text('Submit')")  # empty: a page full of field errors
    problems["start form with errors"] = _violations(page, axe_script)
    context.close()
    admin = sign_in(chromium.new_context(bypass_csp=True), live_server, "admin")
    admin.goto(f"{live_server}/admin")
    problems["/admin"] = _violations(admin, axe_script)
    for url in ("/admin/move?process=expense-approval&from=1&to=1",  # an error: the same version
                "/admin/move?process=board-vote&from=1&to=1&mapping=nonsense",
                "/admin/move"):
        admin.goto(f"{live_server}{url}")
        problems[url] = _violations(admin, axe_script)
    admin.context.close()
    designer = sign_in(chromium.new_context(bypass_csp=True), live_server, "dana")
    for url in ("/designer", "/designer/expense-approval", "/designer/contract-review", "/designer/nodes",
                "/designer/forms", "/designer/forms/expense-request", "/designer/expense-approval/steps/manager_review",
                "/designer/expense-approval/try"):
        designer.goto(f"{live_server}{url}")
        problems[url] = _violations(designer, axe_script)
    designer.goto(f"{live_server}/designer/expense-approval")
    designer.locator(".djs-element[data-element-id='manager_review']").click()
    designer.wait_for_selector("#properties .step-panel")
    problems["the editor with a step's panel open"] = _violations(designer, axe_script)
    designer.fill("#f-manager", "bob")
    designer.fill("#f-amount", "2500")
    designer.select_option("#f-currency", "EUR")
    designer.fill("#f-description", "Accessibility check")
    designer.click("button:has-text('Start the test run')")
    designer.wait_for_selector("#try .try-status")
    problems["the editor during a test run"] = _violations(designer, axe_script)
    designer.goto(f"{live_server}/designer/forms/expense-request")
    designer.fill("#field-0-name", "1 bad")
    designer.click("button[name=act][value=save]")
    problems["the form designer with errors"] = _violations(designer, axe_script)
    designer.set_viewport_size({"width": 375, "height": 800})
    designer.goto(f"{live_server}/designer")
    problems["/designer at phone width"] = _violations(designer, axe_script)
    designer.context.close()
    auditor = sign_in(chromium.new_context(bypass_csp=True), live_server, "audrey")
    for url in ("/audit", "/audit?process=expense-approval&data.amount.min=1000",
                "/audit?process=expense-approval&data.amount.min=lots&status=sleeping"):
        auditor.goto(f"{live_server}{url}")
        problems[url] = _violations(auditor, axe_script)
    auditor.goto(f"{live_server}/audit?process=expense-approval")
    auditor.click("table a")
    problems["audit timeline"] = _violations(auditor, axe_script)
    auditor.goto(auditor.url + "?from=1&to=99")
    problems["audit timeline with a bad version"] = _violations(auditor, axe_script)
    auditor.context.close()
    context = chromium.new_context(bypass_csp=True)
    manager = sign_in(context, live_server, "bob")
    manager.click(".task-title")
    problems["task page"] = _violations(manager, axe_script)
    manager.click("button[value=reject]")
    problems["task page with an error"] = _violations(manager, axe_script)
    manager.set_input_files("#f-attachment", files=[{"name": "setup.pdf", "mimeType": "application/pdf",
                                                       "buffer": b"MZ" + bytes(64)}])
    manager.click("button:has-text('Add file')")
    problems["task page with a refused file"] = _violations(manager, axe_script)
    manager.set_input_files("#f-attachment", files=[{"name": "receipt.pdf", "mimeType": "application/pdf",
                                                       "buffer": b"%PDF-1.7\n%%EOF\n"}])
    manager.click("button:has-text('Add file')")
    problems["task page with a file"] = _violations(manager, axe_script)
    manager.goto(f"{live_server}/inbox?sort=newest&q=1")
    manager.fill("#q", "25")
    manager.wait_for_url("**q=25**")
    problems["inbox after an in-place update"] = _violations(manager, axe_script)
    context.close()
    assert {url: found for url, found in problems.items() if found} == {}
