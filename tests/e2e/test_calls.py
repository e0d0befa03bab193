"""Sub-processes: a purchase runs the shared supplier onboarding as one step and goes on with its output."""

from __future__ import annotations

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition
from bpm.scheduler import Worker

from ..conftest import database_dump

ONBOARDING = {"id": "supplier-onboarding", "name": "Supplier onboarding", "nodes": [
    {"id": "asked", "type": "start"},
    {"id": "vet", "type": "human-task", "data": {
        "title": "Vet supplier {{ data.supplier }}", "candidateGroups": ["finance"], "outcomes": ["approve", "reject"],
        "form": "approval-decision"}},
    {"id": "number", "type": "set", "data": {"into": "data", "values": {"supplierId": "S-{{ data.supplier|upper }}"}}},
    {"id": "ok", "type": "end", "data": {"outcome": "onboarded"}},
    {"id": "no", "type": "end", "data": {"outcome": "refused"}}],
    "edges": [{"id": "o1", "source": "asked", "target": "vet"},
              {"id": "o2", "source": "vet", "target": "number", "sourceHandle": "approve"},
              {"id": "o3", "source": "vet", "target": "no", "sourceHandle": "reject"},
              {"id": "o4", "source": "number", "target": "ok"}]}


def _purchase(key: str = "purchase-call", calls: str = "supplier-onboarding", **call: object) -> dict:
    return {"id": key, "name": "Purchase", "nodes": [
        {"id": "ask", "type": "start"},
        {"id": "onboard", "type": "call", "data": {
            "process": calls, "input": {"supplier": "{{ data.supplier }}"}, "output": {"supplierId": "supplierId"},
            "outcomes": ["onboarded"], **call}},
        {"id": "order", "type": "human-task", "data": {
            "title": "Order from {{ data.supplier }} ({{ data.supplierId }})", "assignee": "bob",
            "outcomes": ["done"]}},
        {"id": "bought", "type": "end", "data": {"outcome": "bought"}},
        {"id": "stopped", "type": "end", "data": {"outcome": "no supplier"}}],
        "edges": [{"id": "p1", "source": "ask", "target": "onboard"},
                  {"id": "p2", "source": "onboard", "target": "order", "sourceHandle": "onboarded"},
                  {"id": "p3", "source": "onboard", "target": "stopped"},
                  {"id": "p4", "source": "order", "target": "bought", "sourceHandle": "done"}]}


def _start(api, rt, **call) -> tuple[dict, dict]:
    import_definition(rt, SYSTEM_ACTOR, ONBOARDING)
    import_definition(rt, SYSTEM_ACTOR, _purchase(**call))
    parent = api.as_("ann").post("/api/instances", json={"definition": "purchase-call",
                                                         "payload": {"supplier": "acme"}}).json
    (child,) = api.as_("ann").get(f"/api/instances/{parent['id']}").json["children"]
    return parent, api.as_("ann").get(f"/api/instances/{child['id']}").json


def test_a_purchase_calls_onboarding_and_resumes_with_its_output_when_another_person_finished_it(api, rt):
    parent, child = _start(api, rt)
    assert parent["status"] == "paused" and parent["openTasks"] == []
    assert (child["parentId"], child["parentNodeId"], child["startedBy"]) == (parent["id"], "onboard", "ann")
    (vet,) = child["openTasks"]
    assert vet["title"] == "Vet supplier acme"
    assert api.as_("ann").post(f"/api/tasks/{vet['id']}/complete", json={"outcome": "approve"}).status_code == 403, \
        "the parent's requester is the child's requester: four-eyes holds across the call"
    assert api.as_("carol").post(f"/api/tasks/{vet['id']}/complete", json={"outcome": "approve"}).status_code == 200
    assert api.get(f"/api/instances/{child['id']}").json["outcome"] == "onboarded"
    assert Worker(rt).tick()["fired"] >= 1
    resumed = api.get(f"/api/instances/{parent['id']}").json
    (order,) = resumed["openTasks"]
    assert order["title"] == "Order from acme (S-ACME)", "the child's output is the parent's data"
    assert resumed["data"]["supplierId"] == "S-ACME"
    assert resumed["children"][0]["status"] == "completed"
    causes = [h["cause"] for h in api.get(f"/api/instances/{parent['id']}/history").json]
    assert "call_returned" in causes


def test_a_refused_child_takes_the_call_s_default_exit(api, rt):
    parent, child = _start(api, rt)
    api.as_("carol").post(f"/api/tasks/{child['openTasks'][0]['id']}/complete",
                          json={"outcome": "reject", "data": {"comment": "unknown firm"}})
    Worker(rt).tick()
    done = api.get(f"/api/instances/{parent['id']}").json
    assert (done["status"], done["outcome"]) == ("completed", "no supplier")


def test_cancelling_the_parent_cancels_its_running_child_unless_it_says_leave(api, rt):
    parent, child = _start(api, rt)
    before = database_dump(rt)
    refused = api.as_("ann").post(f"/api/instances/{child['id']}/cancel", json={"reason": "mine"})
    assert refused.status_code == 403 and "withdraw that one" in refused.json["message"]
    assert database_dump(rt) == before
    assert api.as_("admin").post(f"/api/instances/{parent['id']}/cancel", json={"reason": "not needed"}
                                 ).status_code == 200
    gone = api.get(f"/api/instances/{child['id']}").json
    assert gone["status"] == "cancelled" and "parent request was cancelled" in gone["error"]
    assert api.as_("carol").get(f"/api/tasks/{child['openTasks'][0]['id']}").json["status"] == "cancelled"
    assert Worker(rt).tick().get("incident", 0) == 0, "the parent ended: its child's end is no incident"

    import_definition(rt, SYSTEM_ACTOR, _purchase(onParentEnd="leave"))
    kept = api.as_("ann").post("/api/instances", json={"definition": "purchase-call",
                                                       "payload": {"supplier": "initech"}}).json
    (kept_child,) = api.get(f"/api/instances/{kept['id']}").json["children"]
    api.as_("admin").post(f"/api/instances/{kept['id']}/cancel", json={"reason": "not needed"})
    assert api.get(f"/api/instances/{kept_child['id']}").json["status"] == "paused", "onParentEnd: leave"


def test_a_failed_child_makes_the_parent_s_call_an_incident(api, rt):
    parent, child = _start(api, rt)
    api.as_("admin").post(f"/api/instances/{child['id']}/cancel", json={"reason": "wrong supplier"})
    Worker(rt).tick()
    incidents = api.as_("admin").get("/api/incidents").json
    mine = [i for i in incidents if i["instanceId"] == parent["id"]]
    assert mine and "sub-process supplier-onboarding" in mine[0]["lastError"] and "cancelled" in mine[0]["lastError"]
    assert api.get(f"/api/instances/{parent['id']}").json["status"] == "paused", "it waits for the admin"


def test_a_process_that_calls_itself_or_an_unpublished_one_is_refused_at_publish_and_nothing_changes(api, rt):
    drafted = api.as_("dana").post("/api/definitions", json=_purchase(key="loop-a", calls="loop-a"))
    assert drafted.status_code == 201  # a draft may be anything
    before = database_dump(rt)
    published = api.as_("dana").post("/api/definitions/loop-a/versions/1/publish")
    assert published.status_code == 422 and "calls its own process" in str(published.json["errors"])
    assert database_dump(rt) == before
    api.as_("dana").post("/api/definitions", json=_purchase(key="loop-c", calls="nowhere"))
    nowhere = api.as_("dana").post("/api/definitions/loop-c/versions/1/publish")
    assert nowhere.status_code == 422 and "no published version" in str(nowhere.json["errors"])


def test_a_chain_of_calls_back_to_itself_is_refused_naming_the_chain(api, rt):
    import_definition(rt, SYSTEM_ACTOR, ONBOARDING)
    import_definition(rt, SYSTEM_ACTOR, _purchase(key="ring-b", calls="supplier-onboarding"))
    api.as_("dana").post("/api/definitions", json=_purchase(key="ring-a", calls="ring-b"))
    assert api.as_("dana").post("/api/definitions/ring-a/versions/1/publish").status_code == 200
    back = _purchase(key="ring-b", calls="ring-a")
    api.as_("dana").post("/api/definitions", json=back)
    refused = api.as_("dana").post("/api/definitions/ring-b/versions/2/publish")
    assert refused.status_code == 422 and "ring-b → ring-a → ring-b" in str(refused.json["errors"])
