"""The admins' page: what stopped, what nobody can act on, and the actions on them (the runtime's own)."""

from __future__ import annotations

import re

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition

from .test_repair import _broken


def _page(client, user: str, url: str = "/admin"):
    return client.get(url, headers={"X-BPM-User": user, "Accept": "text/html"})


def _post(client, user: str, url: str, data: dict):
    return client.post(url, data=data, headers={"X-BPM-User": user, "Accept": "text/html"}, follow_redirects=True)


def test_an_admin_sees_a_failed_instance_and_repairs_it_onto_a_fixed_version(client, api, rt):
    import_definition(rt, SYSTEM_ACTOR, _broken("fragile-admin", "s.output.rates[0]"))
    failed = api.post("/api/instances", json={"definition": "fragile-admin", "payload": {}}).json
    assert _page(client, "ann").status_code == 403, "not an employee's page"
    auditor = _page(client, "audrey").get_data(as_text=True)
    assert f'id="i-{failed["id"]}"' in auditor and "Retry the step" not in auditor, "auditors look, do not touch"
    page = _page(client, "admin").get_data(as_text=True)
    assert f'id="i-{failed["id"]}"' in page and "Retry the step" in page and "Repair" in page
    import_definition(rt, SYSTEM_ACTOR, _broken("fragile-admin", "s.output.rate || 1"))
    done = _post(client, "admin", f"/admin/instances/{failed['id']}/repair", {"reason": "rates read wrongly",
                                                                            "version": "2", "csrf_token": "-"})
    assert "Repaired" in done.get_data(as_text=True)
    assert api.get(f"/api/instances/{failed['id']}").json["status"] == "paused"
    refused = _post(client, "admin", f"/admin/instances/{failed['id']}/repair", {"reason": ""})
    assert "Not done: " in refused.get_data(as_text=True)


def test_an_admin_gives_an_orphan_task_to_someone_who_can_do_it(client, api, rt):
    import_definition(rt, SYSTEM_ACTOR, {"id": "loose-admin", "name": "Loose", "nodes": [
        {"id": "s", "type": "start"},
        {"id": "t", "type": "human-task", "data": {"title": "nobody's", "outcomes": ["done"]}}],
        "edges": [{"id": "e", "source": "s", "target": "t"}]})
    task = api.post("/api/instances", json={"definition": "loose-admin", "payload": {}}).json["openTasks"][0]
    page = _page(client, "admin").get_data(as_text=True)
    assert "nobody&#39;s" in page or "nobody's" in page
    assert re.search(rf'action="/admin/tasks/{task["id"]}/reassign"', page)
    done = _post(client, "admin", f"/admin/tasks/{task['id']}/reassign", {"to": "dave", "reason": "he knows"})
    assert "Reassigned to dave" in done.get_data(as_text=True)
    assert api.as_("dave").get(f"/api/tasks/{task['id']}").json["assignee"] == "dave"


def test_a_task_s_page_opens_for_everyone_the_task_was_offered_to_even_after_another_decided_it(client, api):
    from ..conftest import EXPENSE

    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    api.as_("bob").post(f"/api/tasks/{started['openTasks'][0]['id']}/complete", json={"outcome": "approve"})
    finance = api.as_("frank").get("/api/tasks").json[0]
    api.as_("frank").post(f"/api/tasks/{finance['id']}/complete", json={"outcome": "approve"})
    assert api.as_("carol").get(f"/api/tasks/{finance['id']}").status_code == 200, "offered to her group"
    page = _page(client, "carol", f"/tasks/{finance['id']}")
    assert page.status_code == 200, "the page says what the API says"
    assert "What happened so far" not in page.get_data(as_text=True), "the instance's history is not hers to read"
    assert "What happened so far" in _page(client, "frank", f"/tasks/{finance['id']}").get_data(as_text=True)
