"""The process editor's server side: the outline's forms and the properties panel (no script needed), the
canvas's draft saves with the revision, and two designers on one draft."""

from __future__ import annotations

import threading

import pytest

from ..conftest import database_dump


def _post(client, url: str, data: dict, user: str = "dana", htmx: bool = False):
    headers = {"X-BPM-User": user, "Accept": "text/html"}
    if htmx:
        headers["HX-Request"] = "true"
    return client.post(url, data=data, headers=headers, follow_redirects=not htmx)


def _draft(api, key: str = "blank"):
    versions = api.as_("dana").get(f"/api/definitions/{key}").json
    draft = next(v for v in versions if v["status"] == "draft")
    return api.as_("dana").get(f"/api/definitions/{key}/versions/{draft['version']}").json


def _revision(api, key: str = "blank") -> str:
    """The draft's revision, as the editor reads it."""
    return str(api.as_("dana").get(f"/designer/{key}/draft.json").json["revision"])


@pytest.fixture
def blank(client):
    _post(client, "/designer/new", {"key": "blank", "name": "Blank"})


def test_the_outline_builds_an_approval_step_by_step_without_a_script(client, api, blank):
    said = _post(client, "/designer/blank/steps", {"type": "human-task", "label": "Manager approval",
                                                   "after": "start::", "revision": _revision(api)})
    assert "Step added." in said.get_data(as_text=True)
    body = _draft(api)["definition"]
    task = next(n for n in body["nodes"] if n["type"] == "human-task")
    assert task["id"] == "manager_approval" and task["data"] == {"title": "Manager approval"}
    assert task["metadata"]["label"] == "Manager approval" and set(task["metadata"]["position"]) == {"x", "y"}
    assert {"source": "start", "target": "manager_approval"} in [
        {k: e[k] for k in ("source", "target")} for e in body["edges"]]
    saved = _post(client, "/designer/blank/steps/manager_approval", {
        "revision": _revision(api), "label": "Manager approval", "data.title": "Approve {{ data.item }}",
        "data.assignee": "bob", "data.outcomes": "approve, reject", "data.dueIn": "P2D",
        "data.escalations.0.after": "P2D", "data.escalations.0.action": "remind",
        "data.escalations.1.after": "P4D", "data.escalations.1.action": "reassign", "data.escalations.1.to": "dave"})
    assert "Step saved." in saved.get_data(as_text=True)
    data = next(n for n in _draft(api)["definition"]["nodes"] if n["id"] == "manager_approval")["data"]
    assert data == {"title": "Approve {{ data.item }}", "assignee": "bob", "outcomes": ["approve", "reject"],
                    "dueIn": "P2D", "escalations": [{"after": "P2D", "action": "remind"},
                                                    {"after": "P4D", "action": "reassign", "to": "dave"}]}
    _post(client, "/designer/blank/steps/manager_approval/exits",
          {"revision": _revision(api), "handle": "approve", "target": "end"})
    _post(client, "/designer/blank/steps/manager_approval/exits",
          {"revision": _revision(api), "handle": "reject", "target": "end"})
    _post(client, "/designer/blank/steps/start/exits",
          {"revision": _revision(api), "handle": "", "target": "manager_approval"})
    edges = {(e["source"], e.get("sourceHandle"), e["target"]) for e in _draft(api)["definition"]["edges"]}
    assert edges == {("start", None, "manager_approval"), ("manager_approval", "approve", "end"),
                     ("manager_approval", "reject", "end")}
    assert api.as_("dana").post("/api/definitions/blank/versions/1/publish").status_code == 200


def test_a_step_half_set_up_is_kept_and_its_problem_shown_beside_the_canvas(client, api, blank):
    _post(client, "/designer/blank/steps", {"type": "decision", "label": "Big?", "after": "start::",
                                            "revision": _revision(api)})
    assert any(n["id"] == "big" for n in _draft(api)["definition"]["nodes"]), "saved with its problems"
    page = client.get("/designer/blank", headers={"X-BPM-User": "dana"}).get_data(as_text=True)
    assert "Must be fixed before publishing" in page
    refused = api.as_("dana").post("/api/definitions/blank/versions/1/publish")
    assert refused.status_code == 422


def test_a_value_that_cannot_be_read_is_said_at_its_field_and_nothing_is_saved(client, api, blank, rt):
    _post(client, "/designer/blank/steps", {"type": "human-task", "label": "Review", "revision": _revision(api)})
    before = database_dump(rt)
    answer = _post(client, "/designer/blank/steps/review", {"revision": _revision(api), "label": "Review",
                                                            "data.title": "Review", "data.priority": "high"},
                   htmx=True)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Not saved" in page and "Priority: a number" in page
    assert database_dump(rt) == before


def test_an_edit_made_on_an_old_revision_is_refused_and_says_so(client, api, blank, rt):
    old = _revision(api)
    _post(client, "/designer/blank/steps", {"type": "end", "label": "Also done", "revision": old})
    before = database_dump(rt)
    stale = _post(client, "/designer/blank/steps/start/remove", {"revision": old})
    assert "someone saved it since; reload it" in stale.get_data(as_text=True)
    assert database_dump(rt) == before


def test_the_canvas_saves_the_whole_draft_with_its_revision_and_gets_its_problems_and_exits(client, api, blank):
    body = _draft(api)["definition"]
    body["nodes"].append({"id": "ok", "type": "human-task", "data": {"title": "OK?", "assignee": "davee",
                                                                     "outcomes": ["yes", "no"]},
                          "metadata": {"label": "OK?", "position": {"x": 300, "y": 0}}})
    revision = int(_revision(api))
    saved = client.post("/designer/blank/draft", json={"revision": revision, "definition": body},
                        headers={"X-BPM-User": "dana"})
    assert saved.status_code == 200, saved.json
    assert saved.json["revision"] == revision + 1 and saved.json["exits"]["ok"] == ["yes", "no"]
    davee = [p for p in saved.json["problems"] if p.get("node") == "ok" and "davee" in p["message"]]
    assert davee and davee[0]["severity"] == "error", "marked on the step it concerns"
    assert "fragments" in saved.json and "outline" in saved.json["fragments"]
    again = client.post("/designer/blank/draft", json={"revision": revision, "definition": body},
                        headers={"X-BPM-User": "dana"})
    assert again.status_code == 412 and "reload" in again.json["message"]


def test_the_canvas_cannot_save_what_is_no_draft_at_all(client, api, blank, rt):
    before = database_dump(rt)
    body = _draft(api)["definition"]
    body["edges"].append({"id": "x", "source": "start", "target": "nowhere"})
    refused = client.post("/designer/blank/draft", json={"revision": int(_revision(api)), "definition": body},
                          headers={"X-BPM-User": "dana"})
    assert refused.status_code == 422 and "nowhere" in str(refused.json)
    assert database_dump(rt) == before


def test_editing_a_published_process_starts_its_next_draft(client, api):
    said = _post(client, "/designer/expense-approval/steps", {"type": "end", "label": "Withdrawn"})
    assert "Step added." in said.get_data(as_text=True)
    versions = api.as_("dana").get("/api/definitions/expense-approval").json
    assert [(v["version"], v["status"]) for v in versions] == [(2, "draft"), (1, "published")]


def test_the_panel_offers_what_can_be_read_at_that_step(client, api):
    panel = client.get("/designer/expense-approval/steps/amount_check",
                       headers={"X-BPM-User": "dana", "HX-Request": "true"}).get_data(as_text=True)
    assert "{{ nodes.submit.last.data.amount }}" in panel
    assert "{{ nodes.manager_review.last.data.outcome }}" in panel
    assert 'list="picks-user"' not in panel or "<datalist id=\"picks-user\">" in panel


def test_two_designers_saving_one_draft_at_once_one_wins_and_nothing_is_lost(app, api, blank):
    """On PostgreSQL the draft row is locked while it is saved: of two saves on one revision, one is refused."""
    revision = int(_revision(api))
    body = _draft(api)["definition"]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def save(label: str) -> None:
        mine = {**body, "nodes": [*body["nodes"], {"id": label, "type": "end", "data": {},
                                                   "metadata": {"label": label, "position": {"x": 500, "y": 0}}}]}
        client = app.test_client()
        barrier.wait()
        results.append(client.post("/designer/blank/draft", json={"revision": revision, "definition": mine},
                                   headers={"X-BPM-User": "dana"}).status_code)

    threads = [threading.Thread(target=save, args=(name,)) for name in ("hers", "his")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 412]
    nodes = {n["id"] for n in _draft(api)["definition"]["nodes"]}
    assert len(nodes & {"hers", "his"}) == 1 and int(_revision(api)) == revision + 1


def test_a_step_is_checked_as_it_is_typed_and_nothing_is_saved(client, rt):
    before = database_dump(rt)
    headers = {"X-BPM-User": "dana", "HX-Request": "true"}
    said = client.post("/designer/expense-approval/steps/manager_review/check", headers=headers, data={
        "label": "Manager review", "data.title": "Approve", "data.assignee": "davee"}).get_data(as_text=True)
    assert "&#39;Manager review&#39; is assigned to &#39;davee&#39;, who is not an active user" in said
    said = client.post("/designer/expense-approval/steps/amount_check/check", headers=headers, data={
        "label": "Over 1000?", "data.rules.0.when": "{{ nodes.submit.last.data.amont > 1000 }}",
        "data.rules.0.handle": "high", "data.default": "low"}).get_data(as_text=True)
    assert "reads field &#39;amont&#39;" in said and "its fields: " in said
    fine = client.post("/designer/expense-approval/steps/manager_review/check", headers=headers, data={
        "label": "Manager review", "data.title": "Approve", "data.assignee": "bob",
        "data.outcomes": "approve, reject"}).get_data(as_text=True)
    assert "No problem found" in fine
    unreadable = client.post("/designer/expense-approval/steps/manager_review/check", headers=headers, data={
        "label": "Manager review", "data.title": "Approve", "data.priority": "high"}).get_data(as_text=True)
    assert "Priority: a number" in unreadable
    assert database_dump(rt) == before
