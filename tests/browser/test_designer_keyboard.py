"""The issue's purchase request, built by a designer with the keyboard alone (the form designer, the outline and
the step pages: focus, type, Enter — no mouse), tried, published, started by an employee and approved:

"Purchase request: the employee fills item, price and supplier; the manager approves; above 5000 a director
approves too; the requester is told the outcome; a manager who does not act within 2 working days is
reminded, then the task goes to the director."
"""

from __future__ import annotations

from .conftest import sign_in


def _type(page, selector: str, text: str) -> None:
    page.focus(selector)
    page.keyboard.press("Control+a")
    page.keyboard.type(text)


def _choose(page, selector: str, value: str) -> None:
    page.focus(selector)
    page.select_option(selector, value)  # a focused select: the arrow keys do the same


def _press(page, selector: str) -> None:
    """Focus a button or link and press Enter, as a keyboard user does; wait for the page it leads to."""
    page.focus(selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _design_the_form(page, base: str) -> None:
    page.goto(f"{base}/designer/forms")
    _type(page, "#new-form-title-input", "Purchase request")
    _type(page, "#new-form-id", "purchase-request")
    _press(page, "form[action='/designer/forms/new'] button[type=submit]")
    page.wait_for_url("**/designer/forms/purchase-request")
    # the first field is there to begin with: make it the item
    _type(page, "#field-0-label", "Item")
    _type(page, "#field-0-name", "item")
    _type(page, "#field-1-label", "Price")
    _type(page, "#field-1-name", "price")
    _choose(page, "#field-1-kind", "money")
    _press(page, "button[name=act][value=save]")
    page.wait_for_selector("text=Draft saved.")
    page.check("input[name='field.0.required']")
    page.check("input[name='field.1.required']")
    _type(page, "#field-1-minimum", "> 0")
    _type(page, "#field-1-message", "A price above 0, please")
    _type(page, "#field-2-label", "Supplier")
    _type(page, "#field-2-name", "supplier")
    _press(page, "button[name=act][value=save]")
    page.wait_for_selector("text=Draft saved.")
    _type(page, "#field-3-label", "Requested by")
    _type(page, "#field-3-name", "requester")
    _choose(page, "#field-3-kind", "requester")
    _press(page, "button[name=act][value=save]")
    page.wait_for_selector("text=Draft saved.")
    assert page.locator("#preview #f-price").count() == 1, "the preview draws the money field"
    _press(page, "form[action$='/publish'] button")
    page.wait_for_selector("text=Version 1 published")


def _save_step(page) -> None:
    """The step's panel saves in place (htmx): Enter on its button, then its message."""
    page.focus("form.properties button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector(".step-panel .flash.success:has-text('Step saved.')")


def _add_step(page, base: str, key: str, kind: str, name: str, after: str) -> None:
    page.goto(f"{base}/designer/{key}")
    _choose(page, "#add-type", kind)
    _type(page, "#add-label", name)
    page.focus("#add-after")
    page.select_option("#add-after", label=after)
    _press(page, "form.add-step button[type=submit]")
    page.wait_for_selector("text=Step added.")


def _edit_step(page, base: str, key: str, node: str, values: dict[str, str]) -> None:
    page.goto(f"{base}/designer/{key}/steps/{node}")
    for selector, text in values.items():
        _type(page, selector, text)
    _save_step(page)


def _connect(page, node: str, exit_index: int, target_label: str) -> None:
    _type(page, f"#exit-{node}-{exit_index}", target_label)
    _press(page, f"#step-{node} li:nth-child({exit_index}) button[type=submit]")
    page.wait_for_selector("text=Connection saved.")


def test_the_purchase_request_built_with_the_keyboard_tried_published_and_approved(chromium, live_server):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = sign_in(context, live_server, "dana")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _design_the_form(page, live_server)

    page.goto(f"{live_server}/designer")
    _type(page, "#new-name", "Purchase request")
    _type(page, "#new-key", "purchase")
    _press(page, "form[action='/designer/new'] button[type=submit]")
    page.wait_for_url("**/designer/purchase")
    key = "purchase"
    _edit_step(page, live_server, key, "start", {"#p-data-form": "purchase-request", "#p-label": "Request made"})
    _add_step(page, live_server, key, "human-task", "Manager approval", "Request made")
    _edit_step(page, live_server, key, "manager_approval", {
        "#p-data-title": "Approve {{ data.item }}", "#p-data-assignee": "bob", "#p-data-outcomes": "approve, reject",
        "#p-data-calendar": "de-office", "#p-data-dueIn": "P2D"})
    page.goto(f"{live_server}/designer/{key}/steps/manager_approval")
    _type(page, "#p-data-escalations-0-after", "P2D")
    _choose(page, "#p-data-escalations-0-action", "remind")
    _save_step(page)
    page.goto(f"{live_server}/designer/{key}/steps/manager_approval")
    _type(page, "#p-data-escalations-1-after", "P4D")
    _choose(page, "#p-data-escalations-1-action", "reassign")
    _type(page, "#p-data-escalations-1-to", "dave")
    _save_step(page)

    _add_step(page, live_server, key, "decision", "Above 5000?", "Manager approval — “approve”")
    _edit_step(page, live_server, key, "above_5000", {
        "#p-data-rules-0-when": "{{ nodes.start.last.data.price > 5000 }}",
        "#p-data-rules-0-handle": "high", "#p-data-default": "low"})
    _add_step(page, live_server, key, "human-task", "Director approval", "Above 5000? — “high”")
    _edit_step(page, live_server, key, "director_approval", {
        "#p-data-title": "Approve {{ data.item }} (above 5000)", "#p-data-assignee": "dave",
        "#p-data-outcomes": "approve, reject"})
    _add_step(page, live_server, key, "notify", "Tell the requester", "Director approval — “approve”")
    _edit_step(page, live_server, key, "tell_the_requester", {
        "#p-data-to": '["{{ data.requester }}"]', "#p-data-subject": "Your purchase: {{ data.item }}",
        "#p-data-body": "It was decided."})
    page.goto(f"{live_server}/designer/{key}/steps/tell_the_requester")
    _choose(page, "#p-data-channel", "inbox")
    _save_step(page)
    page.goto(f"{live_server}/designer/{key}")
    _connect(page, "manager_approval", 2, "Tell the requester")  # reject
    _connect(page, "above_5000", 2, "Tell the requester")  # low
    _connect(page, "director_approval", 2, "Tell the requester")  # reject
    _connect(page, "tell_the_requester", 1, "Done")
    page.goto(f"{live_server}/designer/{key}")
    problems = page.locator("#problems").inner_text()
    assert "Must be fixed" not in problems, problems

    # Try it: 7,200 goes past the director
    _type(page, "#f-item", "Laser cutter")
    _type(page, "#f-price", "7200")
    _type(page, "#f-supplier", "AB-1234")
    page.focus("#try form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#try .try-status:has-text('Waits at Manager approval')")
    _type(page, "#try-manager_approval-by", "bob")
    page.focus("#try form.try-act button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#try .try-status:has-text('Waits at Director approval')")
    _type(page, "#try-name", "A big purchase goes to the director")
    page.focus("#try form.try-save button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#try :text('saved: it runs again at every publish')")

    page.goto(f"{live_server}/designer/{key}")
    _press(page, "button:has-text('Publish version 1')")
    page.wait_for_selector("text=Version 1 published")
    assert errors == []
    context.close()

    employee = sign_in(chromium.new_context(), live_server, "ann")
    employee.goto(f"{live_server}/start/purchase")
    _type(employee, "#f-item", "Laser cutter")
    _type(employee, "#f-price", "7200")
    employee.focus("#f-priceCurrency")
    employee.select_option("#f-priceCurrency", "EUR")
    _press(employee, "button:has-text('Submit')")
    employee.wait_for_url("**/requests**")
    employee.context.close()

    manager = sign_in(chromium.new_context(), live_server, "bob")
    manager.click("a:has-text('Approve Laser cutter')")
    _press(manager, "button:has-text('approve')")
    manager.context.close()
    director = sign_in(chromium.new_context(), live_server, "dave")
    assert director.locator("a:has-text('Approve Laser cutter (above 5000)')").count() == 1, "7,200 goes on to him"
    director.context.close()
