"""The inbox over HTTP: scopes, claim, unclaim, delegate, comments."""

from __future__ import annotations

from ..conftest import EXPENSE


def _finance_task(api):
    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
    api.as_("bob").post(f"/api/tasks/{started.json['openTasks'][0]['id']}/complete", json={"outcome": "approve"})
    return api.as_("carol").get("/api/tasks?scope=candidate").json[0]


def test_a_group_task_is_claimed_worked_and_given_back(api):
    task = _finance_task(api)
    carol = api.as_("carol")
    assert carol.get("/api/tasks?scope=mine").json == []
    claimed = carol.post(f"/api/tasks/{task['id']}/claim")
    assert claimed.status_code == 200 and claimed.json["assignee"] == "carol"
    assert claimed.headers["ETag"] == '"2"'
    assert [t["id"] for t in carol.get("/api/tasks?scope=mine").json] == [task["id"]]
    assert carol.get("/api/tasks?scope=candidate").json == []
    assert carol.post(f"/api/tasks/{task['id']}/claim").status_code == 409
    unclaimed = carol.post(f"/api/tasks/{task['id']}/unclaim")
    assert unclaimed.json["assignee"] is None


def test_people_outside_the_candidate_group_cannot_claim(api):
    task = _finance_task(api)
    assert api.as_("hana").post(f"/api/tasks/{task['id']}/claim").status_code == 403
    assert api.as_("hana").get("/api/tasks").json == []


def test_a_task_can_be_delegated_to_another_user(api):
    task = _finance_task(api)
    delegated = api.as_("carol").post(f"/api/tasks/{task['id']}/delegate", json={"to": "dave"})
    assert delegated.status_code == 200 and delegated.json["assignee"] == "dave"
    assert api.as_("carol").post(f"/api/tasks/{task['id']}/complete", json={"outcome": "approve"}).status_code == 403
    assert api.as_("dave").post(f"/api/tasks/{task['id']}/complete", json={"outcome": "approve"}).status_code == 200
    after_completion = api.as_("admin").post(f"/api/tasks/{task['id']}/delegate", json={"to": "carol"})
    assert after_completion.status_code == 409, "a completed task cannot be delegated"


def test_delegating_to_an_unknown_user_is_422(api):
    task = _finance_task(api)
    response = api.as_("carol").post(f"/api/tasks/{task['id']}/delegate", json={"to": "nobody"})
    assert response.status_code == 422 and response.json["errors"] == {"to": ["no active user 'nobody'"]}


def test_comments_are_kept_in_order_with_their_author(api):
    task = _finance_task(api)
    api.as_("carol").post(f"/api/tasks/{task['id']}/comments", json={"body": "checking the receipt"})
    api.as_("bob").post(f"/api/tasks/{task['id']}/comments", json={"body": "it is attached"})
    comments = api.get(f"/api/tasks/{task['id']}/comments").json
    assert [(c["author"], c["body"]) for c in comments] == [
        ("carol", "checking the receipt"), ("bob", "it is attached")]
    detail = api.get(f"/api/tasks/{task['id']}").json
    assert len(detail["comments"]) == 2 and detail["form"]["id"] == "approval-decision"
    assert api.post(f"/api/tasks/{task['id']}/comments", json={"body": ""}).status_code == 422


def test_the_inbox_pages_and_orders_by_priority(api):
    for amount in (10, 20, 30):
        api.post("/api/instances", json={"definition": "expense-approval", "payload": {**EXPENSE, "amount": amount}})
    first = api.as_("bob").get("/api/tasks?page=1&page_size=2")
    second = api.as_("bob").get("/api/tasks?page=2&page_size=2")
    assert len(first.json) == 2 and len(second.json) == 1
    assert '"total": 3' in first.headers["X-Pagination"]
    assert api.as_("ann").get("/api/tasks?scope=all").status_code == 403
    assert len(api.as_("admin").get("/api/tasks?scope=all").json) == 3
