"""The process editor's canvas in a real browser: a designer draws an approval with the mouse, sets it up in the
panel beside the canvas, undoes and redoes, copies and pastes, and a second tab that saves late sees the conflict."""

from __future__ import annotations

import re

from .conftest import sign_in


def _shape(page, node_id: str):
    return page.locator(f".djs-element[data-element-id='{node_id}']")


def _draft(page, key: str) -> dict:
    return page.evaluate(f"fetch('/designer/{key}/draft.json').then(r => r.json())")


def _edges(page, key: str) -> set[tuple]:
    return {(e["source"], e["sourceHandle"], e["target"]) for e in _draft(page, key)["definition"]["edges"]}


def _saved(page) -> None:
    """Wait until the canvas's last change is saved (its status says so)."""
    page.locator("#save-status").filter(has_text=re.compile(r"^Saved")).wait_for()


def _new_process(page, base: str, key: str, name: str) -> None:
    page.goto(f"{base}/designer")
    page.fill("#new-name", name)
    page.fill("#new-key", key)
    page.click("form[action='/designer/new'] button[type=submit]")
    page.wait_for_url(f"**/designer/{key}")
    page.wait_for_selector(".djs-palette")


def _connect(page, source: str, exit_name: str, target: str) -> None:
    _shape(page, source).click()
    page.locator(f".djs-context-pad button:has-text('{exit_name} →')").click()
    _shape(page, target).click()
    _saved(page)


def test_a_designer_draws_an_approval_with_the_mouse(chromium, live_server):
    page = sign_in(chromium.new_context(viewport={"width": 1400, "height": 1000}), live_server, "dana")
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    _new_process(page, live_server, "purchase", "Purchase request")
    canvas = page.locator("#designer-canvas").bounding_box()
    page.locator(".djs-palette button:has-text('Task for a person')").click()
    page.mouse.move(canvas["x"] + 400, canvas["y"] + 420, steps=8)
    page.mouse.click(canvas["x"] + 420, canvas["y"] + 430)
    page.wait_for_selector("#properties #p-data-assignee")  # the new step's panel, beside the canvas
    page.fill("#p-label", "Manager approval")
    page.fill("#p-data-assignee", "bob")
    page.fill("#p-data-outcomes", "approve, reject")
    page.click("#properties button:has-text('Save the step')")
    page.wait_for_selector("#properties .flash.success")
    page.wait_for_selector(".djs-element[data-element-id='task_for_a_person'] text:has-text('Manager approval')")
    _connect(page, "start", "goes on", "task_for_a_person")
    _connect(page, "task_for_a_person", "approve", "end")
    _connect(page, "task_for_a_person", "reject", "end")
    assert _edges(page, "purchase") == {("start", None, "task_for_a_person"),
                                        ("task_for_a_person", "approve", "end"),
                                        ("task_for_a_person", "reject", "end")}, "start's one exit was replaced"
    node = next(n for n in _draft(page, "purchase")["definition"]["nodes"] if n["id"] == "task_for_a_person")
    assert node["metadata"]["label"] == "Manager approval" and set(node["metadata"]["position"]) == {"x", "y"}
    assert node["data"] == {"title": "Task for a person", "assignee": "bob", "outcomes": ["approve", "reject"]}

    page.keyboard.press("Control+z")
    _saved(page)
    assert ("task_for_a_person", "reject", "end") not in _edges(page, "purchase")
    page.locator("#canvas-toolbar button[data-act=redo]").click()
    _saved(page)
    assert ("task_for_a_person", "reject", "end") in _edges(page, "purchase")

    _shape(page, "task_for_a_person").click()
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    _saved(page)
    pasted = next(n for n in _draft(page, "purchase")["definition"]["nodes"] if n["id"] == "task_for_a_person_copy")
    assert pasted["data"]["assignee"] == "bob" and pasted["metadata"]["label"] == "Manager approval (copy)"
    page.keyboard.press("Delete")
    _saved(page)
    assert "task_for_a_person_copy" not in {n["id"] for n in _draft(page, "purchase")["definition"]["nodes"]}

    page.locator("#canvas-toolbar button[data-act=layout]").click()
    _saved(page)
    positions = {n["id"]: n["metadata"]["position"]["x"] for n in _draft(page, "purchase")["definition"]["nodes"]}
    assert positions["start"] < positions["task_for_a_person"] < positions["end"], "tidied up left to right"
    assert "None found" in page.locator("#problems").inner_text()
    page.reload()
    page.click("button:has-text('Publish version 1')")
    page.wait_for_selector("text=Version 1 published")
    assert problems == []
    page.context.close()


def test_a_second_tab_that_saves_late_sees_what_differs_and_can_take_theirs(chromium, live_server):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    first = sign_in(context, live_server, "dana")
    _new_process(first, live_server, "twice", "Twice")
    second = context.new_page()
    second.goto(f"{live_server}/designer/twice")
    second.wait_for_selector(".djs-palette")
    canvas = first.locator("#designer-canvas").bounding_box()
    first.locator(".djs-palette button:has-text('Notify')").click()
    first.mouse.move(canvas["x"] + 400, canvas["y"] + 420, steps=8)
    first.mouse.click(canvas["x"] + 420, canvas["y"] + 430)
    _saved(first)
    canvas = second.locator("#designer-canvas").bounding_box()
    second.locator(".djs-palette button:has-text('Wait')").click()
    second.mouse.move(canvas["x"] + 300, canvas["y"] + 200, steps=8)
    second.mouse.click(canvas["x"] + 320, canvas["y"] + 210)
    second.wait_for_selector("#save-conflict:not([hidden])")
    said = second.locator("#save-conflict").inner_text()
    assert "someone else saved this draft first" in said and "they added Notify" in said
    second.click("#save-conflict button[data-keep='theirs']")
    second.wait_for_selector("#save-conflict", state="hidden")
    ids = {n["id"] for n in _draft(second, "twice")["definition"]["nodes"]}
    assert "notify" in ids and "wait" not in ids, "nothing of the first tab was lost"
    context.close()


def test_the_publish_preview_draws_what_changed_on_the_canvas(chromium, live_server):
    page = sign_in(chromium.new_context(viewport={"width": 1400, "height": 1000}), live_server, "dana")
    page.goto(f"{live_server}/designer/expense-approval")
    page.select_option("#add-type", "end")
    page.fill("#add-label", "Withdrawn")
    page.click("form.add-step button[type=submit]")
    page.wait_for_selector("text=Step added.")
    page.wait_for_selector(".djs-palette")
    page.click("#show-diff")
    page.wait_for_selector(".djs-element[data-element-id='withdrawn'].diff-added")
    assert page.locator(".djs-element.diff-changed").count() == 0, "nothing else changed"
    page.click("#show-diff")
    assert page.locator(".djs-element.diff-added").count() == 0
    page.context.close()
