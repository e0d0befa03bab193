"""Out of office in a real browser, with the keyboard alone: bob records his absence naming dave (picked by
typing), dave finds bob's task marked in his inbox and decides it on bob's behalf."""

from __future__ import annotations

import datetime as dt

from .conftest import sign_in, start_expense


def _tab_until(page, focused: str, most: int = 80) -> None:
    """Press Tab until the focused element ``el`` makes the JavaScript ``focused`` true: reachable by keyboard."""
    for _ in range(most):
        if page.evaluate(f"(el => !!el && ({focused}))(document.activeElement)"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"nothing with {focused} is reachable with Tab")


def _tab_to(page, element_id: str) -> None:
    _tab_until(page, f"el.id === {element_id!r}")


def test_an_absence_is_recorded_and_its_work_decided_with_the_keyboard_alone(chromium, live_server):
    ann = sign_in(chromium.new_context(), live_server, "ann")
    start_expense(ann, live_server, amount="320", description="Train tickets")
    ann.wait_for_url("**/requests**")

    bob = sign_in(chromium.new_context(), live_server, "bob")
    bob.goto(f"{live_server}/absences")
    last_day = dt.date.today() + dt.timedelta(days=3)
    _tab_to(bob, "absence-to")
    bob.keyboard.type(last_day.strftime("%m%d%Y"))  # Chromium's date field, typed as en-US shows it
    _tab_to(bob, "absence-substitute")
    bob.keyboard.type("dav")
    offered: list[str] = []
    for _ in range(50):  # what the directory offers for "dav", once htmx has asked (CSP: no eval to wait on)
        offered = bob.eval_on_selector_all("#absence-substitute-options option", "o => o.map(e => e.value)")
        if offered == ["dave"]:
            break
        bob.wait_for_timeout(100)
    assert offered == ["dave"]
    bob.keyboard.type("e")
    bob.keyboard.press("Enter")
    bob.wait_for_url(f"{live_server}/absences")
    assert "dave stands in" in bob.inner_text(".flashes")
    assert "away now" in bob.inner_text("table")

    dave = sign_in(chromium.new_context(), live_server, "dave")
    dave.goto(f"{live_server}/inbox")
    row = dave.locator(".task", has_text="320.00 EUR")
    assert f"for bob — away until {last_day.strftime('%-d %b')}" in row.inner_text()
    _tab_until(dave, "el.classList.contains('task-title') && el.textContent.includes('320.00 EUR')")
    dave.keyboard.press("Enter")
    dave.wait_for_url("**/tasks/**")
    assert "standing in for bob" in dave.inner_text("p.why")
    _tab_until(dave, "el.value === 'approve'")
    dave.keyboard.press("Enter")
    dave.wait_for_url(f"{live_server}/inbox**")
    assert "Done:" in dave.inner_text(".flashes")
