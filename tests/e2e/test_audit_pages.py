"""The auditors' pages: the search with its filters, counts, saved searches and exports; an instance's timeline
with its steps' times, path, events and a field-by-field diff; legal holds; a purged instance; hostile text."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from markupsafe import escape

from bpm.runtime import retention
from bpm.runtime.instances import start_instance
from bpm.runtime.tasks import claim_task, complete_task

from ..conftest import EXPENSE, REPO
from ..hostile import CORPUS, UNESCAPED

DAY = 86_400_000


def _page(client, url: str, user: str = "audrey"):
    return client.get(url, headers={"X-BPM-User": user, "Accept": "text/html"})


def _post(client, url: str, data: dict, user: str = "audrey"):
    return client.post(url, data={**data, "csrf_token": "-"}, headers={"X-BPM-User": user, "Accept": "text/html"})


def _approved(rt, clock, description: str = "new laptop", business_key: str | None = "EXP-7") -> str:
    instance, run = start_instance(rt, rt.actor("ann"), "expense-approval", {**EXPENSE, "description": description},
                                   business_key)
    clock.advance(3_600_000)
    _, _, run = complete_task(rt, rt.actor("bob"), run.created_tasks[0].id, "approve", {"comment": "fine"})
    clock.advance(2 * DAY)
    finance = run.created_tasks[0]
    claim_task(rt, rt.actor("carol"), finance.id)
    clock.advance(5_400_000)
    complete_task(rt, rt.actor("carol"), finance.id, "approve", {})
    return instance.id


def test_the_search_page_finds_counts_and_links_to_exports(client, rt, clock):
    instance_id = _approved(rt, clock)
    start_instance(rt, rt.actor("ann"), "expense-approval", {**EXPENSE, "amount": 20}, "EXP-8")
    page = _page(client, "/audit?process=expense-approval&data.amount.min=1000")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1 request found" in html and f'href="/audit/instances/{instance_id}"' in html
    assert 'href="/api/audit/export?format=csv&amp;process=expense-approval&amp;data.amount.min=1000"' in html
    assert re.search(r'<label for="s-data-amount-min">Amount at least</label>', html), "the form's fields offered"
    everything = _page(client, "/audit").get_data(as_text=True)
    assert "2 requests" in everything


def test_a_search_that_cannot_run_names_the_field_and_keeps_the_rest(client):
    page = _page(client, "/audit?status=sleeping&businessKey=EXP-1&from=someday")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="s-status" name="status" aria-invalid="true"' in html and 'aria-describedby="s-from-error"' in html
    assert 'value="EXP-1"' in html, "what was typed stays"


def test_saved_searches_are_one_auditors_own(client):
    made = _post(client, "/audit/searches", {"name": "Big ones", "query": "process=expense-approval&data.amount.min"
                                                                         "=1000&page=3&evil=1"})
    assert made.status_code == 303
    assert made.headers["Location"] == "/audit?process=expense-approval&data.amount.min=1000", "page, junk dropped"
    assert ">Big ones</a>" in _page(client, "/audit").get_data(as_text=True)
    assert "Big ones" not in _page(client, "/audit", "admin").get_data(as_text=True)
    _post(client, "/audit/searches/delete", {"name": "Big ones"})
    assert "Big ones" not in _page(client, "/audit").get_data(as_text=True)


def test_the_timeline_shows_steps_events_path_and_a_diff(client, rt, clock):
    instance_id = _approved(rt, clock)
    page = _page(client, f"/audit/instances/{instance_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "every hash checked: intact" in html
    assert "<strong>ann</strong> started the request" in html and "<strong>carol</strong> claimed the task" in html
    assert "1 h" in html, "the manager's review waited an hour"
    assert "2 d" in html and "1 h 30 min" in html, "finance waited two days to be claimed, then worked 90 minutes"
    for node in ("submit", "manager_review", "finance_review"):
        assert f'visited" data-node="{node}"' in html, f"{node} on the path taken"
    assert 'visited" data-node="escalate"' not in html, "the escalation was never reached"
    versions = re.findall(r'<option value="(\d+)"', html)
    first, last = versions[0], versions[-1]
    diff = _page(client, f"/audit/instances/{instance_id}?from={first}&to={last}").get_data(as_text=True)
    assert "<code>status</code></td><td>paused</td><td>completed</td>" in diff
    assert "<code>context.manager_review.output.outcome</code></td><td>—</td><td>approve</td>" in diff
    bad = _page(client, f"/audit/instances/{instance_id}?from=99&to={last}")
    assert bad.status_code == 422 and 'aria-describedby="v-from-error"' in bad.get_data(as_text=True)


def test_a_legal_hold_from_the_page_and_a_purged_instance_still_shows_its_story(client, rt, clock):
    body = json.loads((REPO / "processes" / "expense-approval.json").read_text())
    from bpm.runtime import definitions

    definitions.import_definition(rt, rt.actor("dana"), {**body, "id": "page-expense", "historyTimeToLive": 1})
    instance, run = start_instance(rt, rt.actor("ann"), "page-expense", EXPENSE)
    complete_task(rt, rt.actor("bob"), run.created_tasks[0].id, "reject", {"comment": "no"})
    held = _post(client, f"/audit/instances/{instance.id}/hold", {"reason": "tax audit 2026"})
    assert held.status_code == 303
    html = _page(client, f"/audit/instances/{instance.id}").get_data(as_text=True)
    assert "tax audit 2026" in html and "Lift the legal hold" in html
    refused = _post(client, f"/audit/instances/{instance.id}/hold/lift", {"reason": "x"})
    assert refused.status_code == 303
    assert "tax audit 2026" in _page(client, f"/audit/instances/{instance.id}").get_data(as_text=True), "no reason"
    _post(client, f"/audit/instances/{instance.id}/hold/lift", {"reason": "audit closed"})
    clock.advance(2 * DAY)
    assert len(retention.purge(rt, retention.RETENTION_ACTOR)) == 1
    page = _page(client, f"/audit/instances/{instance.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "removed by retention" in html and "retention removed its data" in html
    assert "intact" in html and "new laptop" not in html


@pytest.mark.parametrize("payload", CORPUS)
def test_hostile_text_is_shown_not_run(client, rt, clock, payload):
    instance_id = _approved(rt, clock, description=payload, business_key=payload[:200])
    for url in ("/audit?process=expense-approval", f"/audit/instances/{instance_id}",
                f"/audit?businessKey={quote(payload)}"):
        page = _page(client, url)
        html = page.get_data(as_text=True)
        assert page.status_code == 200, url
        assert str(escape(payload)) in html, f"{url} must show the text, as text"
        assert not any(bad in html for bad in UNESCAPED), url
