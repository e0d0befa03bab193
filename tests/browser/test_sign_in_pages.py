"""Signing in, the tokens page and the API docs in a real browser, by keyboard alone, under the CSP."""

from __future__ import annotations


def _focused(page) -> str:
    return page.evaluate("() => document.activeElement.id || document.activeElement.textContent.trim()")


def test_a_person_signs_in_and_makes_a_token_with_the_keyboard_alone(page, live_server):
    page.goto(f"{live_server}/tokens")
    assert page.url == f"{live_server}/login?next=/tokens"
    assert _focused(page) == "username", "the cursor starts in the first field"
    page.keyboard.type("ann")
    page.keyboard.press("Tab")
    assert _focused(page) == "password"
    page.keyboard.type("wrong-password")
    page.keyboard.press("Enter")
    page.wait_for_selector("#login-error")
    assert _focused(page) == "password", "after a mistake the cursor waits in the password field"
    assert any(p.startswith("401 ") and p.endswith("/login") for p in page.problems), "the refusal says 401"
    page.problems.clear()
    page.keyboard.type("ann-demo")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/tokens")

    page.keyboard.press("Tab")
    assert _focused(page) == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert _focused(page) == "token-name", "past the page's intro the first stop is the form"
    page.keyboard.type("reporting script")
    page.keyboard.press("Enter")
    token = page.wait_for_selector("#token-text").input_value()
    assert token.startswith("bpm_")
    assert page.locator("tbody tr").count() == 1
    assert page.problems == []


def test_swagger_ui_runs_under_the_content_security_policy(page, live_server):
    page.goto(f"{live_server}/login?next=/api/docs")
    page.fill("#username", "dana")
    page.fill("#password", "dana-demo")
    page.press("#password", "Enter")
    page.wait_for_url(f"{live_server}/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    assert page.locator("button.authorize").count() == 1, "Authorize offers the bearer token"
    assert page.problems == [], "no blocked script or style"


def test_pages_fit_a_phone(chromium, live_server):
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.goto(f"{live_server}/login?next=/tokens")
    phone.fill("#username", "ann")
    phone.fill("#password", "ann-demo")
    phone.press("#password", "Enter")
    phone.wait_for_url(f"{live_server}/tokens")
    phone.fill("#token-name", "phone")
    phone.press("#token-name", "Enter")
    phone.wait_for_selector("#token-text")
    for url in ("/tokens", "/", "/login"):
        phone.goto(f"{live_server}{url}")
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390, f"{url} scrolls sideways"
    context.close()
