"""The employee's day in a real browser: start an expense, decide it, follow it; group tasks; no JavaScript needed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import sign_in, start_expense


def test_an_expense_is_started_rejected_with_a_reason_and_the_requester_sees_it(chromium, live_server):
    ann = sign_in(chromium.new_context(), live_server, "ann")
    hostile = "<script>alert('x')</script> & <img src=x onerror=alert(1)>"
    start_expense(ann, live_server, amount="200000")
    error = "must be at most 100,000"
    assert ann.locator("#f-amount-error").inner_text() == error, "the server's check, not the browser's"
    assert ann.input_value("#f-manager") == "bob" and ann.input_value("#f-amount") == "200000", "values kept"
    assert ann.locator("#error-summary a").inner_text() == f"Amount: {error}"
    ann.fill("#f-amount", "12e")
    ann.click("button:has-text('Submit')")
    assert ann.locator("#f-amount-error").inner_text() == "'12e' is not a number", "what was typed reaches the server"
    ann.fill("#f-amount", "1500")
    ann.fill("#f-description", hostile)
    ann.click("button:has-text('Submit')")
    ann.wait_for_url("**/requests**")
    assert "in progress" in ann.inner_text(".request") and "waiting for bob" in ann.inner_text(".request")

    bob = sign_in(chromium.new_context(), live_server, "bob")
    bob.goto(f"{live_server}/inbox?view=mine&process=expense-approval")
    bob.click(".task-title")
    assert hostile in bob.inner_text(".data"), "hostile text is shown as text"
    bob.click("button[value=reject]")
    assert bob.locator("#f-comment-error").is_visible(), "rejecting needs a comment: said at the field"
    assert bob.locator("#f-comment").get_attribute("aria-invalid") == "true"
    bob.fill("#f-comment", "Please use the standard model")
    bob.click("button[value=reject]")
    bob.wait_for_url(f"{live_server}/inbox?process=expense-approval", timeout=10_000)
    assert "Done:" in bob.inner_text(".flashes"), "back at the same list, filters kept, and told it worked"

    ann.goto(f"{live_server}/requests")
    assert ann.inner_text(".request .badge") == "rejected"
    assert ann.dialogs == [] and bob.dialogs == [], "no injected script ran"


def test_a_group_task_claimed_by_one_leaves_the_other_s_group_tasks(chromium, live_server):
    ann = sign_in(chromium.new_context(), live_server, "ann")
    start_expense(ann, live_server, amount="2500")
    bob = sign_in(chromium.new_context(), live_server, "bob")
    bob.click(".task-title")
    bob.click("button[value=approve]")
    carol = sign_in(chromium.new_context(), live_server, "carol")
    frank = sign_in(chromium.new_context(), live_server, "frank")
    for page in (carol, frank):
        page.goto(f"{live_server}/inbox?view=group")
        assert page.locator(".task").count() == 1
    carol.click(".task-title")
    carol.click("button:has-text('Claim')")
    assert "The task is yours now" in carol.inner_text(".flashes")
    frank.reload()
    assert frank.locator(".task").count() == 0, "claimed: gone from frank's group tasks"
    carol.goto(f"{live_server}/inbox")
    assert carol.locator(".task").count() == 1, "and in carol's own tasks"


def test_the_essential_path_works_without_javascript(chromium, live_server):
    ann = sign_in(chromium.new_context(java_script_enabled=False), live_server, "ann")
    start_expense(ann, live_server, amount="200")
    ann.wait_for_url("**/requests**")
    bob = sign_in(chromium.new_context(java_script_enabled=False), live_server, "bob")
    bob.click(".task-title")
    bob.click("button[value=approve]")
    bob.wait_for_url(f"{live_server}/inbox")
    ann.goto(f"{live_server}/requests")
    assert ann.inner_text(".request .badge") == "approved"


def test_the_pages_fit_a_375_pixel_screen(chromium, live_server):
    ann = sign_in(chromium.new_context(viewport={"width": 375, "height": 812}), live_server, "ann")
    start_expense(ann, live_server)
    bob = sign_in(chromium.new_context(viewport={"width": 375, "height": 812}), live_server, "bob")
    task_url = bob.locator(".task-title").get_attribute("href")
    for page, url in ((ann, "/start"), (ann, "/start/expense-approval"), (ann, "/requests"), (bob, "/inbox"),
                      (bob, task_url), (bob, "/inbox?view=group"), (bob, "/notifications")):
        page.goto(f"{live_server}{url}")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 375, f"{url} is {width} px wide"
    assert re.match(r"^/tasks/[0-9a-f-]+\?back=", task_url)
    audrey = sign_in(chromium.new_context(viewport={"width": 375, "height": 812}), live_server, "audrey")
    audrey.goto(f"{live_server}/audit?process=expense-approval")
    instance_url = audrey.locator("table a").first.get_attribute("href")
    admin = sign_in(chromium.new_context(viewport={"width": 375, "height": 812}), live_server, "admin")
    for page, url in ((audrey, "/audit?process=expense-approval"), (audrey, instance_url), (admin, "/admin"),
                      (admin, "/admin/move"), (admin, "/tokens")):
        page.goto(f"{live_server}{url}")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 375, f"{url} is {width} px wide"


def test_group_tasks_are_claimed_several_at_once_and_filters_survive_a_visit(chromium, live_server):
    ann = sign_in(chromium.new_context(), live_server, "ann")
    bob = sign_in(chromium.new_context(), live_server, "bob")
    for description in ("Train to Lyon", "Hotel in Lyon", "Taxi"):
        start_expense(ann, live_server, amount="1200", description=description)
        ann.wait_for_url("**/requests**")
        bob.goto(f"{live_server}/inbox")
        bob.click(".task-title")
        bob.click("button[value=approve]")
        bob.wait_for_url(f"{live_server}/inbox")
    carol = sign_in(chromium.new_context(), live_server, "carol")
    carol.goto(f"{live_server}/inbox?view=group")
    carol.fill("#q", "lyon")
    carol.click("button:has-text('Filter')")
    carol.wait_for_url("**q=lyon**")
    expect(carol.locator(".task")).to_have_count(2)
    filtered = carol.url
    carol.click(".task-title")
    carol.click("text=Back to the list")
    assert carol.url == filtered and carol.input_value("#q") == "lyon", "back at the same filtered list"
    for box in carol.locator(".pick").all():
        box.check()
    carol.click("button:has-text('Claim selected')")
    assert "Claimed 2 tasks" in carol.inner_text(".flashes")
    assert carol.url == filtered and carol.locator(".task").count() == 0
    carol.goto(f"{live_server}/inbox?view=group")
    assert carol.locator(".task").count() == 1, "the taxi is still offered"


def test_a_draft_survives_closing_the_page_and_goes_once_the_form_is_sent(chromium, live_server):
    ann = sign_in(chromium.new_context(), live_server, "ann")
    ann.goto(f"{live_server}/start/expense-approval")
    ann.fill("#f-manager", "bob")
    ann.fill("#f-amount", "75")
    ann.fill("#f-description", "Half written")
    ann.close()  # the page goes: drafts.js sends what was typed
    ann = sign_in(chromium.new_context(), live_server, "ann")
    for _ in range(50):  # the beacon travels on its own; give it a moment
        ann.goto(f"{live_server}/start/expense-approval")
        if ann.locator(".draft-notice").count():
            break
        ann.wait_for_timeout(100)
    assert ann.input_value("#f-description") == "Half written" and ann.input_value("#f-amount") == "75"
    ann.select_option("#f-currency", "EUR")
    ann.click("button:has-text('Submit')")
    ann.wait_for_url("**/requests**")
    ann.goto(f"{live_server}/start/expense-approval")
    assert ann.locator(".draft-notice").count() == 0 and ann.input_value("#f-description") == ""

    bob = sign_in(chromium.new_context(java_script_enabled=False), live_server, "bob")
    bob.click(".task-title")
    task_url = bob.url
    bob.fill("#f-comment", "Thinking about it")
    bob.click("button:has-text('Save draft')")
    assert "Draft saved" in bob.inner_text(".flashes")
    bob.goto(f"{live_server}/inbox")
    bob.goto(task_url)
    assert bob.input_value("#f-comment") == "Thinking about it", "without JavaScript, by the button"
    bob.click("button:has-text('Discard the draft')")
    assert bob.input_value("#f-comment") == ""


def test_a_manager_hands_a_task_on_after_confirming_and_never_to_the_requester(chromium, live_server):
    ann = sign_in(chromium.new_context(), live_server, "ann")
    start_expense(ann, live_server, amount="300")
    bob = sign_in(chromium.new_context(java_script_enabled=False), live_server, "bob")
    bob.click(".task-title")
    task_url = bob.url
    bob.click("summary:has-text('Hand it to someone else')")
    bob.fill("#delegate-to", "ann")
    bob.click("button:has-text('Delegate')")
    assert "four-eyes" in bob.inner_text("[role=alert]"), "the requester cannot take her own approval: said at once"
    assert bob.locator("button:has-text('Yes, give it to ann')").count() == 0, "never asked to confirm a refusal"
    bob.goto(task_url)
    bob.click("summary:has-text('Hand it to someone else')")
    bob.fill("#delegate-to", "dave")
    bob.click("button:has-text('Delegate')")
    assert "on behalf of" in bob.inner_text(".confirm")
    bob.click("button:has-text('Yes, give it to dave')")
    assert "Handed to dave" in bob.inner_text(".flashes")
    dave = sign_in(chromium.new_context(), live_server, "dave")
    assert dave.locator(".task").count() == 1


def test_the_open_task_count_updates_by_itself_without_losing_what_is_typed(chromium, live_server):
    context = chromium.new_context()
    bob = context.new_page()
    bob.clock.install()
    bob.goto(f"{live_server}/login")
    bob.fill("#username", "bob")
    bob.fill("#password", "bob-demo")
    bob.press("#password", "Enter")
    bob.wait_for_url(f"{live_server}/inbox")
    assert bob.inner_text("#open-count") == "0"
    bob.fill("#q", "half-typed search")
    ann = sign_in(chromium.new_context(), live_server, "ann")
    start_expense(ann, live_server, amount="40")
    ann.wait_for_url("**/requests**")
    bob.clock.run_for(31_000)
    bob.wait_for_function("() => document.getElementById('open-count').textContent.trim() === '1'", timeout=5_000)
    assert bob.input_value("#q") == "half-typed search", "only the count was swapped"
    context.close()


def test_a_vote_of_three_needing_two_completes_on_the_second_approval(chromium, live_server):
    ann = sign_in(chromium.new_context(), live_server, "ann")
    ann.goto(f"{live_server}/start")
    assert ann.locator("a:has-text('Board vote')").count() == 1
    ann.click("a:has-text('Board vote')")
    ann.click("button:has-text('Submit')")
    ann.wait_for_url("**/requests**")
    for voter in ("bob", "dave"):
        page = sign_in(chromium.new_context(), live_server, voter)
        page.click(".task-title")
        page.click("button[value=approve]")
        page.wait_for_url(f"{live_server}/inbox")
    ann.goto(f"{live_server}/requests")
    assert ann.inner_text(".request .badge") == "approved"
    erin = sign_in(chromium.new_context(), live_server, "erin")
    assert erin.locator(".task").count() == 0, "the third vote was not needed and went"


def test_a_person_names_a_filter_and_picks_it_again_later(chromium, live_server):
    bob = sign_in(chromium.new_context(), live_server, "bob")
    bob.goto(f"{live_server}/inbox?view=group&due=week&q=lyon&page=3")
    bob.click("summary:has-text('Save these filters')")
    bob.fill("#view-name", "Lyon this week")
    bob.click("button:has-text('Save view')")
    assert "Saved the view" in bob.inner_text(".flashes")
    bob.goto(f"{live_server}/inbox")
    bob.click("nav.saved-views a:has-text('Lyon this week')")
    assert bob.input_value("#q") == "lyon" and bob.input_value("#due") == "week"
    assert "page=" not in bob.url, "a view keeps the filters, not the page"
    dave = sign_in(chromium.new_context(), live_server, "dave")
    assert dave.locator("nav.saved-views").count() == 0, "views are personal"


def test_filters_update_the_list_in_place_and_the_address_keeps_them(chromium, live_server):
    ann = sign_in(chromium.new_context(), live_server, "ann")
    for amount in ("90", "475"):
        start_expense(ann, live_server, amount=amount)
        ann.wait_for_url("**/requests**")
    bob = sign_in(chromium.new_context(), live_server, "bob")
    bob.goto(f"{live_server}/inbox")
    expect(bob.locator(".task")).to_have_count(2)
    bob.evaluate("window.stillThisPage = true")  # gone if the browser loads a new page
    bob.locator("#q").press_sequentially("475")
    bob.wait_for_url("**q=475**")
    expect(bob.locator(".task")).to_have_count(1)
    assert bob.evaluate("window.stillThisPage === true"), "the list changed without a page load"
    assert bob.input_value("#q") == "475", "what the person typed is still there"
    assert bob.evaluate("document.activeElement.id") == "q", "and the cursor is still in the search box"
    assert "1 task match" in bob.inner_text("#results-status")
    assert "process=" not in bob.url, "the address holds only the filters that are set"
    assert bob.evaluate("localStorage.getItem('htmx-history-cache')") is None, "no task data kept in the browser"
    bob.select_option("#sort", "newest")
    bob.wait_for_url("**sort=newest**")
    bob.reload()
    assert bob.input_value("#q") == "475" and bob.input_value("#sort") == "newest"
    expect(bob.locator(".task")).to_have_count(1)
    bob.go_back()
    bob.wait_for_url(re.compile(r".*q=475(?!.*sort).*"))
    expect(bob.locator(".task")).to_have_count(1)
    expect(bob.locator("#sort")).to_have_value("")  # back to the list before the sort was chosen


def test_a_file_added_on_the_task_page_is_downloaded_by_the_requester(chromium, live_server, tmp_path):
    ann = sign_in(chromium.new_context(), live_server, "ann")
    start_expense(ann, live_server, amount="310")
    ann.wait_for_url("**/requests**")
    bob = sign_in(chromium.new_context(), live_server, "bob")
    bob.click(".task-title")
    receipt = tmp_path / "Reçu hôtel.pdf"
    receipt.write_bytes(b"%PDF-1.7\n%%EOF\n")
    bob.set_input_files("#f-attachment", str(receipt))
    bob.click("button:has-text('Add file')")
    assert "Added Reçu hôtel.pdf" in bob.inner_text(".flashes")
    program = tmp_path / "invoice.pdf"
    program.write_bytes(b"MZ\x90\x00" + bytes(64))
    bob.set_input_files("#f-attachment", str(program))
    bob.click("button:has-text('Add file')")
    assert "application/x-msdownload" in bob.inner_text("#f-attachment-error"), "said at the field"
    task_url = bob.url.split("/attachments")[0]
    bob.goto(task_url)
    assert bob.locator(".files li").count() == 1, "the refused file was not kept"
    ann_page = ann.context.new_page()
    ann_page.goto(task_url)
    with ann_page.expect_download() as download:
        ann_page.click("a:has-text('Reçu hôtel.pdf')")
    assert download.value.suggested_filename == "Reçu hôtel.pdf"
    assert download.value.path().read_bytes() == receipt.read_bytes()


def test_a_request_is_withdrawn_with_the_keyboard_after_a_question_and_a_reason(chromium, live_server):
    ann = sign_in(chromium.new_context(), live_server, "ann")
    start_expense(ann, live_server, amount="120", description="Withdraw me")
    ann.wait_for_url("**/requests**")
    ann.locator(".request a:has-text('Withdraw request')").first.focus()
    ann.keyboard.press("Enter")
    ann.wait_for_url("**/withdraw")
    assert ann.inner_text("h1") == "Withdraw this request?" and "bob" in ann.inner_text(".facts")
    ann.locator("#w-reason").focus()
    ann.keyboard.type("Paid for it myself")
    ann.keyboard.press("Tab")
    assert ann.evaluate("document.activeElement.textContent.trim()") == "Yes, withdraw it"
    ann.keyboard.press("Enter")
    ann.wait_for_url(f"{live_server}/requests")
    assert "withdrawn" in ann.inner_text(".flashes")
    assert ann.locator(".request").first.locator(".badge").inner_text() != "in progress"
