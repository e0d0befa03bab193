"""The request's own data: a reworked post reaches its editor and is published as revised; a corrected amount."""

from __future__ import annotations

from ..conftest import EXPENSE

POST = {"title": "First draft", "body": "The original text of the post."}


def _task(api, user: str, instance_id: str) -> dict:
    open_tasks = api.as_(user).get(f"/api/instances/{instance_id}").json["openTasks"]
    assert len(open_tasks) == 1, open_tasks
    return api.as_(user).get(f"/api/tasks/{open_tasks[0]['id']}").json


def test_a_reworked_post_reaches_the_editor_and_its_revised_title_is_published(api):
    started = api.as_("ann").post("/api/instances", json={"definition": "content-approval", "payload": POST}).json
    instance_id = started["id"]
    assert "data" not in started["snapshot"], "nothing written yet: Refluxo's snapshot exactly"
    review = _task(api, "erin", instance_id)
    assert review["title"] == "Review post: First draft"
    assert api.as_("erin").post(f"/api/tasks/{review['id']}/complete", json={
        "outcome": "reject", "data": {"comment": "Too long a title, please"}}).status_code == 200
    rework = _task(api, "ann", instance_id)
    assert rework["nodeId"] == "rework" and rework["prefill"] == POST, "the rework form opens with the post as it is"
    revised = {"title": "Shorter", "body": "The revised text of the post."}
    assert api.as_("ann").post(f"/api/tasks/{rework['id']}/complete", json={
        "outcome": "resubmit", "data": revised}).status_code == 200
    instance = api.get(f"/api/instances/{instance_id}").json
    assert instance["data"] == {**POST, **revised, "author": "ann"} and instance["snapshot"]["data"] == revised
    review = _task(api, "erin", instance_id)
    assert review["title"] == "Review post: Shorter", "the editor reviews the revised post"
    assert api.as_("erin").post(f"/api/tasks/{review['id']}/complete", json={"outcome": "approve"}).status_code == 200
    done = api.get(f"/api/instances/{instance_id}").json
    assert done["outcome"] == "published"
    assert done["snapshot"]["context"]["publish"][-1]["output"] == {"published": True, "title": "Shorter"}
    history = api.get(f"/api/instances/{instance_id}/history").json
    written = [h for h in history if any(k.startswith("data.") for k in (h.get("changes") or {}))]
    assert len(written) == 1
    entry = written[0]
    assert (entry["actor"], entry["nodeId"], entry["cause"]) == ("ann", "rework", "task_completed")
    assert entry["changes"]["data.title"] == ["First draft", "Shorter"]
    assert entry["changes"]["data.body"] == [POST["body"], revised["body"]]


def test_finance_sees_the_amount_the_manager_corrected(api):
    started = api.as_("ann").post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    manager = _task(api, "bob", started["id"])
    assert manager["prefill"] == {"amount": 1500, "currency": "EUR"}
    assert api.as_("bob").post(f"/api/tasks/{manager['id']}/complete", json={
        "outcome": "approve", "data": {"amount": 1200, "currency": "EUR", "comment": "the hotel was 300 less"}}
    ).status_code == 200
    finance = _task(api, "carol", started["id"])
    assert finance["title"] == "Finance check: 1,200.00 EUR (new laptop)"
    assert api.get(f"/api/instances/{started['id']}").json["data"]["amount"] == 1200


def test_a_manager_who_corrects_the_amount_below_the_limit_skips_finance(api):
    started = api.as_("ann").post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    manager = _task(api, "bob", started["id"])
    api.as_("bob").post(f"/api/tasks/{manager['id']}/complete", json={
        "outcome": "approve", "data": {"amount": 800, "currency": "EUR"}})
    done = api.get(f"/api/instances/{started['id']}").json
    assert (done["status"], done["outcome"]) == ("completed", "approved")


def test_a_decision_that_leaves_the_prefilled_amount_as_it_was_writes_no_change(api):
    started = api.as_("ann").post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    manager = _task(api, "bob", started["id"])
    api.as_("bob").post(f"/api/tasks/{manager['id']}/complete", json={
        "outcome": "approve", "data": {**manager["prefill"]}})
    history = api.get(f"/api/instances/{started['id']}/history").json
    assert not [h for h in history if any(k.startswith("data.") for k in (h.get("changes") or {}))]


def test_a_process_that_writes_nothing_keeps_refluxos_snapshot(api):
    started = api.as_("ann").post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    manager = _task(api, "bob", started["id"])
    api.as_("bob").post(f"/api/tasks/{manager['id']}/complete", json={"outcome": "reject",
                                                                      "data": {"comment": "no"}})
    snapshot = api.get(f"/api/instances/{started['id']}").json["snapshot"]
    assert set(snapshot) <= {"workflowId", "status", "currentNodeId", "context", "version", "lastStartedAt",
                             "totalExecutionTime", "metadata", "retryState"}
