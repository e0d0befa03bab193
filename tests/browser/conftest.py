"""A real browser (Debian's Chromium, driven by Playwright) against the app served on loopback.

Skipped when Chromium or Playwright is missing, unless BPM_REQUIRE_BROWSER=1 (CI sets it), so a
newcomer's `pytest` runs without them and CI never silently skips them.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
BOARD_VOTE = {"id": "board-vote", "name": "Board vote", "nodes": [
    {"id": "ask", "type": "start"},
    {"id": "board", "type": "human-task", "data": {
        "title": "Board vote", "form": "approval-decision", "approvers": ["bob", "dave", "erin"],
        "completion": {"atLeast": 2}, "outcomes": ["approve", "reject"]}},
    {"id": "yes", "type": "end", "data": {"outcome": "approved"}}],
    "edges": [{"id": "e1", "source": "ask", "target": "board"},
              {"id": "e2", "source": "board", "target": "yes", "sourceHandle": "approve"}]}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _browser_available() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not shutil.which(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def chromium():
    missing = _browser_available()
    if missing:
        if os.environ.get("BPM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required here: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(database_url):
    """The app as `bpm serve` configures it (no development identity), on a free loopback port."""
    if not database_url.startswith("sqlite"):
        pytest.skip("pages are looked at once; the database behind them is tested elsewhere on both")
    from bpm.app import create_app
    from bpm.runtime.demo import load_demo

    from ..conftest import wipe

    app = create_app({"database_url": database_url, "dev_identity": False})
    rt = app.extensions["bpm"]
    wipe(rt)
    load_demo(rt)
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.definitions import import_definition

    import_definition(rt, SYSTEM_ACTOR, BOARD_VOTE)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    rt.close()


@pytest.fixture
def page(chromium):
    """A fresh page that records what the browser complains about (CSP violations, script errors)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda message: tab.problems.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: tab.problems.append(str(error)))
    tab.on("response", lambda r: tab.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield tab
    context.close()


def sign_in(context, base: str, user: str):
    """A page of ``context`` signed in as ``user`` (demo password), on their home page (an employee's inbox, an
    auditor's audit search, a designer's list); it records dialogs."""
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", f"{user}-demo")
    page.press("#password", "Enter")
    page.wait_for_url(lambda url: url.startswith(base) and "/login" not in url)
    return page


def start_expense(page, base: str, amount: str = "1500", description: str = "A new laptop") -> None:
    """Fill and submit the expense claim as the signed-in person of ``page``."""
    page.goto(f"{base}/start")
    page.click("a:has-text('Expense approval')")
    page.fill("#f-manager", "bob")
    page.fill("#f-amount", amount)
    page.select_option("#f-currency", "EUR")
    page.fill("#f-description", description)
    page.click("button:has-text('Submit')")
