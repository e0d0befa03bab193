"""Definition lifecycle over HTTP: drafts, numbered versions, publish, retire, validation."""

from __future__ import annotations

PURCHASE = {
    "id": "purchase", "name": "Purchase request",
    "nodes": [{"id": "ask", "type": "start"},
              {"id": "ok", "type": "human-task", "data": {"title": "OK? v{{ 1 }}", "assignee": "bob"}},
              {"id": "done", "type": "end", "data": {"outcome": "bought"}}],
    "edges": [{"id": "e1", "source": "ask", "target": "ok"},
              {"id": "e2", "source": "ok", "target": "done", "sourceHandle": "complete"}],
}


def _with_title(title):
    body = {**PURCHASE, "nodes": [dict(n) for n in PURCHASE["nodes"]]}
    body["nodes"][1] = {**body["nodes"][1], "data": {"title": title, "assignee": "bob"}}
    return body


def test_a_draft_is_saved_replaced_published_and_versioned(api):
    designer = api.as_("dana")
    first = designer.post("/api/definitions", json=PURCHASE)
    assert first.status_code == 201
    assert (first.json["key"], first.json["version"], first.json["status"]) == ("purchase", 1, "draft")
    assert first.json["definition"]["version"] == 1 and first.json["createdBy"] == "dana"
    replaced = designer.post("/api/definitions", json=_with_title("Approve v1"))
    assert (replaced.json["version"], replaced.json["checksum"] != first.json["checksum"]) == (1, True)
    assert api.post("/api/instances", json={"definition": "purchase"}).status_code == 404, "drafts do not start"

    published = designer.post("/api/definitions/purchase/versions/1/publish")
    assert published.status_code == 200 and published.json["status"] == "published"
    assert published.json["publishedBy"] == "dana"
    assert designer.post("/api/definitions/purchase/versions/1/publish").status_code == 409

    on_v1 = api.post("/api/instances", json={"definition": "purchase"}).json
    assert on_v1["definitionVersion"] == 1 and on_v1["openTasks"][0]["title"] == "Approve v1"

    second = designer.post("/api/definitions", json=_with_title("Approve v2"))
    assert (second.json["version"], second.json["status"]) == (2, "draft")
    designer.post("/api/definitions/purchase/versions/2/publish")
    on_v2 = api.post("/api/instances", json={"definition": "purchase"}).json
    assert on_v2["definitionVersion"] == 2 and on_v2["openTasks"][0]["title"] == "Approve v2"

    versions = api.get("/api/definitions/purchase").json
    assert [(v["version"], v["status"]) for v in versions] == [(2, "published"), (1, "published")]
    assert api.get("/api/definitions/purchase/versions/1").json["definition"]["nodes"][1]["data"]["title"] == \
        "Approve v1"

    retired = designer.post("/api/definitions/purchase/versions/1/retire")
    assert retired.json["status"] == "retired" and retired.json["retiredAt"]
    task = on_v1["openTasks"][0]["id"]
    assert api.as_("bob").post(f"/api/tasks/{task}/complete", json={}).status_code == 200, \
        "a running instance finishes on its own (retired) version"
    assert api.get(f"/api/instances/{on_v1['id']}").json["outcome"] == "bought"


def test_only_designers_change_definitions(api):
    refused = api.as_("ann").post("/api/definitions", json=PURCHASE)
    assert refused.status_code == 403 and "designer" in refused.json["message"]
    api.as_("dana").post("/api/definitions", json=PURCHASE)
    assert api.as_("ann").post("/api/definitions/purchase/versions/1/publish").status_code == 403


def test_unknown_keys_and_versions_are_404(api):
    assert api.get("/api/definitions/nothing").status_code == 404
    assert api.get("/api/definitions/expense-approval/versions/9").status_code == 404
    assert api.as_("dana").post("/api/definitions/expense-approval/versions/9/publish").status_code == 404


def test_the_list_shows_the_newest_version_of_each_process(api):
    api.as_("dana").post("/api/definitions", json=PURCHASE)
    rows = api.as_("dana").get("/api/definitions").json
    assert [(r["key"], r["status"]) for r in rows] == [
        ("content-approval", "published"), ("contract-review", "published"), ("expense-approval", "published"),
        ("purchase", "draft"), ("vacation-request", "published")]
    catalogue = api.get("/api/definitions").json
    expense = next(r for r in catalogue if r["key"] == "expense-approval")
    assert expense["startForm"] == "expense-request"
    form = api.get(f"/api/forms/{expense['startForm']}").json
    assert form["id"] == "expense-request" and form["schema"]["required"][0] == "requester"
    assert form["ui"]["widgets"]["requester"] == "current-user"
    assert api.get("/api/forms/nope").status_code == 404
    assert [r["key"] for r in catalogue] == [
        "content-approval", "contract-review", "expense-approval", "vacation-request"], \
        "an employee sees what she may start, not drafts"
    assert api.get("/api/definitions/purchase/versions/1").status_code == 404
    assert [r["key"] for r in api.as_("dana").get("/api/definitions?status=draft").json] == ["purchase"]
    assert api.get("/api/definitions?status=draft").json == [], "drafts are the designers' business"
    assert api.get("/api/definitions?status=bogus").status_code == 422


def test_validate_reports_problems_without_saving(api):
    body = {**PURCHASE, "edges": [*PURCHASE["edges"],
                                  {"id": "e3", "source": "ok", "target": "done", "sourceHandle": "complete"},
                                  {"id": "e4", "source": "ok", "target": "done"}]}
    report = api.as_("dana").post("/api/definitions/validate", json=body)
    assert report.status_code == 200 and report.json["valid"] is False
    assert report.json["problems"] == [
        {"path": "$.edges[2]", "severity": "warning",
         "message": "edge 'e3' leaves node 'ok' by handle 'complete', like edge 'e2'; only the first is ever followed"},
        {"path": "$.edges[3].sourceHandle", "severity": "error",
         "message": "edge 'e4' can never be taken: node 'ok' never leaves by the default handle; "
                    "it leaves by: complete"}]
    assert api.get("/api/definitions/purchase").status_code == 404
    assert api.as_("dana").post("/api/definitions/validate", json=PURCHASE).json == {"valid": True, "problems": []}


def test_a_decision_whose_handles_are_computed_is_not_second_guessed(api):
    body = {"id": "routed", "name": "Routed", "nodes": [
        {"id": "s", "type": "start"},
        {"id": "d", "type": "decision", "data": {"rules": [{"when": "{{ true }}", "handle": "{{ 'fast' }}"}],
                                                 "default": "slow"}},
        {"id": "fast", "type": "end"}, {"id": "slow", "type": "end"}],
        "edges": [{"id": "e1", "source": "s", "target": "d"},
                  {"id": "e2", "source": "d", "target": "fast", "sourceHandle": "fast"},
                  {"id": "e3", "source": "d", "target": "slow", "sourceHandle": "slow"}]}
    assert api.as_("dana").post("/api/definitions/validate", json=body).json == {"valid": True, "problems": []}


def test_a_human_task_offered_to_nobody_is_a_warning_that_still_lets_it_publish(api):
    body = {"id": "orphan", "name": "Orphan", "nodes": [
        {"id": "s", "type": "start"}, {"id": "t", "type": "human-task", "data": {"title": "Who sees me?"}},
        {"id": "end", "type": "end"}],
        "edges": [{"id": "e1", "source": "s", "target": "t"}, {"id": "e2", "source": "t", "target": "end",
                                                                   "sourceHandle": "complete"}]}
    report = api.as_("dana").post("/api/definitions/validate", json=body).json
    assert report == {"valid": True, "problems": [
        {"path": "$.nodes[1].data", "severity": "warning",
         "message": "human task 't' names no assignee, candidate users or candidate groups: "
                    "it will show in no one's inbox"}]}
    assert api.as_("dana").post("/api/definitions", json=body).status_code == 201
