"""A requester's page for one request: data as it stands, where it waits (people since when, a timer until when),
comments (she adds one), files, outcome; nobody unrelated is told it exists."""

from __future__ import annotations

import re

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition

from ..conftest import EXPENSE, database_dump


def _page(client, instance_id: str, user: str):
    return client.get(f"/requests/{instance_id}", headers={"X-BPM-User": user})


def test_the_requester_follows_her_request_and_adds_a_comment_the_approver_reads(api, client, rt):
    started = api.post("/api/instances", json={"definition": "expense-approval", "businessKey": "EXP-7",
                                               "payload": EXPENSE}).json
    page = _page(client, started["id"], "ann").get_data(as_text=True)
    assert "Expense approval · EXP-7" in page and "1,500.00 EUR" in page and "new laptop" in page
    assert re.search(r"Waits for</dt><dd><strong>bob</strong>", page)
    assert "Withdraw request" in page and "Now at: Manager review" in page
    assert f'href="/requests/{started["id"]}"' in client.get("/requests", headers={"X-BPM-User": "ann"}
                                                             ).get_data(as_text=True)

    dump = database_dump(rt)
    empty = client.post(f"/requests/{started['id']}/comments", headers={"X-BPM-User": "ann"}, data={"body": " "})
    assert empty.status_code == 422 and database_dump(rt) == dump
    said = client.post(f"/requests/{started['id']}/comments", headers={"X-BPM-User": "ann"},
                       data={"body": "The receipt is in the mail."})
    assert said.status_code == 303
    task_id = started["openTasks"][0]["id"]
    assert [c["body"] for c in api.as_("bob").get(f"/api/tasks/{task_id}/comments").json] == [
        "The receipt is in the mail."], "the approver reads it on the task"

    assert _page(client, started["id"], "hana").status_code == 404, "unrelated: not told it exists"
    api.as_("bob").post(f"/api/tasks/{task_id}/complete", json={"outcome": "reject",
                                                               "data": {"comment": "too much"}})
    done = _page(client, started["id"], "ann").get_data(as_text=True)
    assert "rejected" in done and "too much" in done and "Withdraw request" not in done
    assert 'action="/requests/' not in done, "nothing waits: no step to comment on"


def test_a_request_waiting_on_a_timer_says_until_when(api, client, rt):
    import_definition(rt, SYSTEM_ACTOR, {"id": "cooling-off", "name": "Cooling off", "nodes": [
        {"id": "ask", "type": "start"},
        {"id": "wait", "type": "timer", "data": {"duration": "P14D"}, "metadata": {"label": "Cooling-off period"}},
        {"id": "done", "type": "end"}], "edges": [{"id": "e1", "source": "ask", "target": "wait"},
                                                  {"id": "e2", "source": "wait", "target": "done"}]})
    started = api.post("/api/instances", json={"definition": "cooling-off", "payload": {}}).json
    page = _page(client, started["id"], "ann").get_data(as_text=True)
    assert "Waits until</dt><dd><time" in page and "15 Jan 2026, 00:00 UTC" in page and "Cooling-off period" in page
