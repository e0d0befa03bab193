"""An admin decides a task he does not work on only by acting on behalf of its assignee, with a reason."""

from __future__ import annotations

from ..conftest import EXPENSE, database_dump


def _started(api) -> tuple[str, str]:
    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    return started["id"], started["openTasks"][0]["id"]


def test_an_admin_acts_on_behalf_of_the_assignee_with_a_reason_and_the_history_says_so(api, rt):
    instance_id, task_id = _started(api)
    dump = database_dump(rt)
    plain = api.as_("admin").post(f"/api/tasks/{task_id}/complete", json={"outcome": "approve"})
    assert plain.status_code == 403 and "act on their behalf" in plain.json["message"]
    empty = api.as_("admin").post(f"/api/tasks/{task_id}/complete", json={"outcome": "approve", "behalfReason": " "})
    assert empty.status_code == 422 and "behalfReason" in empty.json["errors"]
    employee = api.as_("dave").post(f"/api/tasks/{task_id}/complete",
                                    json={"outcome": "approve", "behalfReason": "bob is ill"})
    assert employee.status_code == 404, "only admins act on behalf; dave is not even related"
    assert database_dump(rt) == dump, "refused: nothing written"

    done = api.as_("admin").post(f"/api/tasks/{task_id}/complete",
                                 json={"outcome": "approve", "behalfReason": "bob is in hospital"})
    assert done.status_code == 200, done.json
    assert (done.json["completedBy"], done.json["assignee"]) == ("admin", "bob")
    [entry] = [h for h in api.as_("audrey").get(f"/api/instances/{instance_id}/history").json
               if h["cause"] == "task_completed"]
    assert (entry["actor"], entry["onBehalfOf"]) == ("admin", "bob")
    assert entry["changes"]["reason"] == [None, "bob is in hospital"]


def test_reassigning_to_himself_does_not_let_an_admin_decide(api, rt):
    _, task_id = _started(api)
    refused = api.as_("admin").post(f"/api/tasks/{task_id}/reassign", json={"to": "admin"})
    assert refused.status_code == 403 and "not to himself" in refused.json["message"]


def test_four_eyes_holds_for_the_admin_and_for_the_person_he_acts_for(api, rt):
    started = api.as_("admin").post("/api/instances", json={"definition": "expense-approval", "payload": {
        **EXPENSE, "requester": "admin"}}).json
    refused = api.as_("admin").post(f"/api/tasks/{started['openTasks'][0]['id']}/complete",
                                    json={"outcome": "approve", "behalfReason": "bob is away"})
    assert refused.status_code == 403 and "four-eyes: admin asked" in refused.json["message"]


def test_the_task_page_offers_acting_on_behalf_with_a_required_reason(client, api):
    _, task_id = _started(api)
    page = client.get(f"/tasks/{task_id}", headers={"X-BPM-User": "admin"}).get_data(as_text=True)
    assert "Act on behalf of bob" in page and 'name="behalf_reason"' in page
    csrf = {"X-BPM-User": "admin"}
    answer = client.post(f"/tasks/{task_id}", headers=csrf, data={"outcome": "approve", "behalf_reason": "",
                                                                  "amount": "1500", "currency": "EUR"})
    assert answer.status_code == 422 and "say why you decide this for someone else" in answer.get_data(as_text=True)
    answer = client.post(f"/tasks/{task_id}", headers=csrf, data={"outcome": "approve", "amount": "1500",
                                                                  "currency": "EUR", "behalf_reason": "bob is ill"})
    assert answer.status_code == 303
    assert api.as_("admin").get(f"/api/tasks/{task_id}").json["completedBy"] == "admin"
