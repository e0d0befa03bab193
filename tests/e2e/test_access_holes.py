"""The five holes of issue 11, each closed: self-approval three ways, spoofed identity fields, leaking reads.

Every refusal is also checked to have changed nothing in the database.
"""

from __future__ import annotations

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition

from ..conftest import EXPENSE, database_dump


def _start(api, user="ann", **changes):
    response = api.as_(user).post("/api/instances", json={"definition": "expense-approval",
                                                          "payload": {**EXPENSE, **changes}})
    assert response.status_code == 201, response.json
    return response.json


def _refused(api, rt, user, url, json=None, status=403, get=False):
    """``user``'s request is refused with ``status`` and leaves every table as it was."""
    before = database_dump(rt)
    response = api.as_(user).get(url) if get else api.as_(user).post(url, json=json if json is not None else {})
    assert response.status_code == status, (user, url, response.status_code, response.json)
    assert database_dump(rt) == before, f"a refused {url} changed something"
    return response


def test_hole_1_a_directly_assigned_task_cannot_be_unclaimed_into_anyone(api, rt):
    task = _start(api)["openTasks"][0]
    assert task["assignee"] == "bob" and task["candidateUsers"] == [] and task["candidateGroups"] == []
    refused = _refused(api, rt, "bob", f"/api/tasks/{task['id']}/unclaim", status=409)
    assert "reassign" in refused.json["message"]
    _refused(api, rt, "ann", f"/api/tasks/{task['id']}/claim", status=409)  # still bob's
    _refused(api, rt, "ann", f"/api/tasks/{task['id']}/complete", {"outcome": "approve"})


def test_a_task_offered_to_nobody_is_no_one_s_until_an_admin_reassigns_it(api, rt):
    import_definition(rt, SYSTEM_ACTOR, {"id": "loose", "name": "Loose", "nodes": [
        {"id": "s", "type": "start"},
        {"id": "t", "type": "human-task", "data": {"title": "anyone?", "outcomes": ["approve", "reject"]}}],
        "edges": [{"id": "e", "source": "s", "target": "t"}]})
    started = api.as_("bob").post("/api/instances", json={"definition": "loose", "payload": {}}).json
    task = started["openTasks"][0]
    _refused(api, rt, "ann", f"/api/tasks/{task['id']}/claim", status=404)
    _refused(api, rt, "bob", f"/api/tasks/{task['id']}/complete", {"outcome": "approve"})
    assert [t["id"] for t in api.as_("admin").get("/api/tasks?scope=orphaned").json] == [task["id"]]
    _refused(api, rt, "admin", f"/api/tasks/{task['id']}/reassign", {"to": "bob"})  # four-eyes: bob asked
    assert api.as_("admin").post(f"/api/tasks/{task['id']}/reassign", json={"to": "dave"}).status_code == 200
    assert api.as_("dave").post(f"/api/tasks/{task['id']}/complete", json={"outcome": "approve"}).status_code == 200


def test_hole_2_the_requester_cannot_name_herself_as_her_approving_manager(api, rt):
    before = database_dump(rt)
    response = api.post("/api/instances", json={"definition": "expense-approval",
                                                 "payload": {**EXPENSE, "manager": "ann"}})
    assert response.status_code == 422
    assert response.json["errors"] == {"manager": [
        "four-eyes: ann asked for this, so someone else must decide it"]}
    assert database_dump(rt) == before


def test_hole_2_a_requester_in_the_deciding_group_cannot_decide_her_own_request(api, rt):
    started = _start(api, "carol")  # carol is in finance, which decides expenses over 1000
    bob = api.as_("bob")
    assert bob.post(f"/api/tasks/{started['openTasks'][0]['id']}/complete", json={"outcome": "approve"}
                    ).status_code == 200
    finance = api.as_("frank").get("/api/tasks").json[0]
    assert finance["instanceId"] == started["id"]
    refused = _refused(api, rt, "carol", f"/api/tasks/{finance['id']}/claim")
    assert refused.json["message"].startswith("four-eyes: carol asked for this")
    _refused(api, rt, "carol", f"/api/tasks/{finance['id']}/complete", {"outcome": "approve"})
    assert api.as_("frank").post(f"/api/tasks/{finance['id']}/complete", json={"outcome": "approve"}
                                 ).status_code == 200


TWO_STEPS = {
    "id": "two-steps", "name": "Two steps",
    "nodes": [{"id": "s", "type": "start"},
              {"id": "first", "type": "human-task",
               "data": {"title": "first", "candidateGroups": ["finance"], "outcomes": ["approve", "reject"]}},
              {"id": "second", "type": "human-task",
               "data": {"title": "second", "candidateGroups": ["finance"], "outcomes": ["approve", "reject"],
                        "distinctFrom": ["first"]}},
              {"id": "note", "type": "human-task",
               "data": {"title": "note", "candidateGroups": ["finance"], "outcomes": ["approve", "reject"],
                        "fourEyes": False}}],
    "edges": [{"id": "e1", "source": "s", "target": "first"},
              {"id": "e2", "source": "first", "target": "second", "sourceHandle": "approve"},
              {"id": "e3", "source": "second", "target": "note", "sourceHandle": "approve"}],
}


def test_distinct_from_bars_whoever_decided_the_earlier_step_and_four_eyes_can_be_switched_off(api, rt):
    import_definition(rt, SYSTEM_ACTOR, TWO_STEPS)
    started = api.as_("frank").post("/api/instances", json={"definition": "two-steps", "payload": {}}).json
    first = started["openTasks"][0]
    _refused(api, rt, "frank", f"/api/tasks/{first['id']}/claim")  # four-eyes: frank asked
    assert api.as_("carol").post(f"/api/tasks/{first['id']}/complete", json={"outcome": "approve"}).status_code == 200
    [second] = api.as_("audrey").get(f"/api/instances/{started['id']}").json["openTasks"]
    assert api.as_("carol").get("/api/tasks").json == [], "she may not decide it: it is not offered to her"
    refused = _refused(api, rt, "carol", f"/api/tasks/{second['id']}/complete", {"outcome": "approve"})
    assert refused.json["message"] == "carol decided step 'first' of this request; a different person must decide " \
                                      "this one"
    assert api.as_("admin").post(f"/api/tasks/{second['id']}/reassign", json={"to": "dave"}).status_code == 200
    assert api.as_("dave").post(f"/api/tasks/{second['id']}/complete", json={"outcome": "approve"}).status_code == 200
    note = api.as_("frank").get("/api/tasks").json[0]
    assert note["nodeId"] == "note"
    assert api.as_("frank").post(f"/api/tasks/{note['id']}/complete", json={"outcome": "approve"}).status_code == 200


def test_a_definition_naming_an_unknown_distinct_from_node_or_a_bad_four_eyes_is_invalid(api):
    broken = {**TWO_STEPS, "fourEyes": "no", "startableBy": {"teams": ["x"]},
              "nodes": [*TWO_STEPS["nodes"][:2], {**TWO_STEPS["nodes"][2], "data": {
                  **TWO_STEPS["nodes"][2]["data"], "distinctFrom": ["frist"]}}, TWO_STEPS["nodes"][3]]}
    report = api.as_("dana").post("/api/definitions/validate", json=broken).json
    paths = {p["path"] for p in report["problems"] if p["severity"] == "error"}
    assert paths == {"$.fourEyes", "$.startableBy", "$.nodes[2].data.distinctFrom[0]"}


def test_hole_3_delegation_goes_only_to_who_could_have_been_offered_it_and_never_to_the_requester(api, rt):
    started = _start(api)
    review = started["openTasks"][0]
    _refused(api, rt, "bob", f"/api/tasks/{review['id']}/delegate", {"to": "ann"})  # the requester
    _refused(api, rt, "bob", f"/api/tasks/{review['id']}/delegate", {"to": "audrey"})  # works on no tasks
    delegated = api.as_("bob").post(f"/api/tasks/{review['id']}/delegate", json={"to": "dave"})
    assert delegated.status_code == 200 and delegated.json["delegatedBy"] == "bob"
    assert api.as_("dave").post(f"/api/tasks/{review['id']}/complete", json={"outcome": "approve"}).status_code == 200
    finance = api.as_("carol").get("/api/tasks").json[0]
    refused = _refused(api, rt, "carol", f"/api/tasks/{finance['id']}/delegate", {"to": "hana"})
    assert "candidate" in refused.json["message"]
    assert api.as_("carol").post(f"/api/tasks/{finance['id']}/delegate", json={"to": "frank"}).status_code == 200
    history = api.get(f"/api/instances/{started['id']}/history").json
    completion = next(h for h in history if h["cause"] == "task_completed")
    assert (completion["actor"], completion["onBehalfOf"]) == ("dave", "bob")
    delegations = [(h["actor"], h["onBehalfOf"], h["changes"]) for h in history if h["cause"] == "task_delegated"]
    assert delegations == [("bob", None, {"assignee": ["bob", "dave"]}),
                           ("carol", None, {"assignee": [None, "frank"]})]
    snapshot = api.get(f"/api/instances/{started['id']}").json["snapshot"]
    assert snapshot["context"]["manager_review"][-1]["output"]["onBehalfOf"] == "bob"


def test_hole_4_a_current_user_field_is_the_actor_whatever_the_payload_says(api):
    started = _start(api, requester="bob", manager="dave")
    assert started["snapshot"]["context"]["submit"][-1]["output"]["requester"] == "ann"
    assert started["openTasks"][0]["title"] == "Approve expense of 1,500.00 EUR for ann"
    without = {k: v for k, v in EXPENSE.items() if k != "requester"}
    assert api.post("/api/instances", json={"definition": "expense-approval", "payload": without}).status_code == 201


def test_hole_5_reads_are_for_the_people_related_to_the_work(api, rt):
    started = _start(api)
    instance_id, task_id = started["id"], started["openTasks"][0]["id"]
    for url in (f"/api/instances/{instance_id}", f"/api/instances/{instance_id}/history", f"/api/tasks/{task_id}",
                f"/api/tasks/{task_id}/comments"):
        missing = _refused(api, rt, "hana", url, status=404, get=True)
        assert missing.json["message"] in (f"no instance '{instance_id}'", f"no task '{task_id}'"), \
            "told exactly what an unknown id is told"
        assert api.get(url).status_code == 200, "the requester reads it"
        assert api.as_("bob").get(url).status_code == 200, "the assignee reads it"
        assert api.as_("audrey").get(url).status_code == 200, "the auditor reads it"
    _refused(api, rt, "hana", f"/api/tasks/{task_id}/comments", {"body": "hello"}, status=404)
    _refused(api, rt, "audrey", f"/api/tasks/{task_id}/comments", {"body": "hello"})
    _refused(api, rt, "hana", f"/api/instances/{instance_id}/cancel", status=404)
    assert api.as_("hana").get("/api/instances").json == []
    assert [i["id"] for i in api.as_("bob").get("/api/instances").json] == [instance_id]
    api.as_("bob").post(f"/api/tasks/{task_id}/complete", json={"outcome": "approve"})
    assert api.as_("bob").get(f"/api/instances/{instance_id}").status_code == 200, "having acted, bob still reads it"
    assert [i["id"] for i in api.as_("bob").get("/api/instances").json] == [instance_id]
    assert [i["id"] for i in api.as_("frank").get("/api/instances").json] == [instance_id], "offered to his group"
    assert api.as_("dave").get(f"/api/instances/{instance_id}").status_code == 404


def test_start_is_only_for_those_startable_by_names(api, rt):
    import_definition(rt, SYSTEM_ACTOR, {**TWO_STEPS, "id": "hr-only", "name": "HR only",
                                         "startableBy": {"groups": ["hr"], "users": ["bob"]}})
    before = database_dump(rt)
    assert api.post("/api/instances", json={"definition": "hr-only", "payload": {}}).status_code == 404
    assert database_dump(rt) == before
    assert "hr-only" not in [d["key"] for d in api.get("/api/definitions").json]
    assert api.get("/api/definitions/hr-only/versions/1").status_code == 404
    for user in ("hana", "bob"):
        assert "hr-only" in [d["key"] for d in api.as_(user).get("/api/definitions").json]
        assert api.as_(user).post("/api/instances", json={"definition": "hr-only", "payload": {}}).status_code == 201
    assert "hr-only" in [d["key"] for d in api.as_("dana").get("/api/definitions").json], "designers see all"
    assert api.as_("audrey").post("/api/instances", json={"definition": "expense-approval",
                                                          "payload": EXPENSE}).status_code == 403


def test_a_process_can_keep_its_requester_from_withdrawing_it(api, rt, client):
    import_definition(rt, SYSTEM_ACTOR, {**TWO_STEPS, "id": "binding", "name": "Binding", "requesterMayCancel": False})
    started = api.post("/api/instances", json={"definition": "binding", "payload": {}}).json
    refused = _refused(api, rt, "ann", f"/api/instances/{started['id']}/cancel")
    assert "requesterMayCancel" in refused.json["message"]
    page = client.get("/requests", headers={"X-BPM-User": "ann"}).get_data(as_text=True)
    assert f'href="/requests/{started["id"]}/withdraw"' not in page, "no button for what is not allowed"
    asked = client.get(f"/requests/{started['id']}/withdraw", headers={"X-BPM-User": "ann"})
    assert asked.status_code == 404, "nor a confirmation page"
    assert api.as_("admin").post(f"/api/instances/{started['id']}/cancel", json={}).status_code == 200
    problems = api.as_("dana").post("/api/definitions/validate", json={**TWO_STEPS, "requesterMayCancel": "no"}
                                    ).json["problems"]
    assert [p["path"] for p in problems if p["severity"] == "error"] == ["$.requesterMayCancel"]


def test_an_admin_cannot_give_a_task_to_himself_and_then_decide_it(api, rt):
    """docs/identity.md: admins do not decide others' tasks. Reassigning a stuck task to oneself made one the
    assignee, and then the approval went through (issue 22)."""
    from ..conftest import EXPENSE, database_dump

    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    task = started["openTasks"][0]["id"]
    before = database_dump(rt)
    refused = api.as_("admin").post(f"/api/tasks/{task}/reassign", json={"to": "admin"})
    assert refused.status_code == 403 and "not to himself" in refused.json["message"]
    assert database_dump(rt) == before
    assert api.as_("admin").post(f"/api/tasks/{task}/complete", json={"outcome": "approve"}).status_code == 403
    assert api.as_("admin").post(f"/api/tasks/{task}/reassign", json={"to": "dave"}).status_code == 200
