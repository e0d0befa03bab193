"""The request's data in a real browser: a rejected blog post is reworked, reviewed as revised and published so."""

from __future__ import annotations

from .conftest import sign_in


def _open_first_task(page, base: str, process: str, view: str = "mine") -> None:
    page.goto(f"{base}/inbox?view={view}&process={process}")
    page.click(".task-title")


def test_a_rejected_post_is_reworked_from_its_text_and_the_editor_publishes_the_revised_one(chromium, live_server):
    ann = sign_in(chromium.new_context(), live_server, "ann")
    ann.goto(f"{live_server}/start")
    ann.click("a:has-text('Blog post approval')")
    ann.fill("#f-title", "Our new office")
    ann.fill("#f-body", "We moved to a bigger office.")
    ann.click("button:has-text('Submit')")
    ann.wait_for_url("**/requests**")

    erin = sign_in(chromium.new_context(), live_server, "erin")
    _open_first_task(erin, live_server, "content-approval", "group")
    assert "Review post: Our new office" in erin.inner_text("h1")
    erin.fill("#f-comment", "Please say where it is")
    erin.click("button[value=reject]")
    erin.wait_for_url("**/inbox**")

    _open_first_task(ann, live_server, "content-approval")
    assert "Rework your post" in ann.inner_text("h1")
    assert ann.input_value("#f-title") == "Our new office", "the rework form opens with the post as it stands"
    assert ann.input_value("#f-body") == "We moved to a bigger office."
    ann.fill("#f-title", "Our new office by the station")
    ann.fill("#f-body", "We moved to a bigger office, next to the central station.")
    ann.click("button[value=resubmit]")
    ann.wait_for_url("**/inbox**")

    _open_first_task(erin, live_server, "content-approval", "group")
    assert "Review post: Our new office by the station" in erin.inner_text("h1")
    request = erin.inner_text(".data")
    assert "next to the central station" in request and "We moved to a bigger office." not in request.replace(
        "We moved to a bigger office, next", ""), "the editor reads the revised post"
    erin.click("button[value=approve]")
    erin.wait_for_url("**/inbox**")

    ann.goto(f"{live_server}/requests")
    assert ann.inner_text(".request .badge") == "published"
