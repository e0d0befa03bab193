"""Valid input never strands an instance: long titles fit, ghosts are caught at the door or listed."""

from __future__ import annotations

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.accounts import add_member, create_group, set_active
from bpm.runtime.actors import Actor
from bpm.runtime.definitions import import_definition

from ..conftest import EXPENSE, database_dump


def test_a_long_description_makes_a_task_title_that_is_cut_not_a_failed_instance(api):
    long = "new laptop and a docking station " * 20  # 660 characters: the finance title is longer than 500
    started = api.post("/api/instances", json={"definition": "expense-approval",
                                                "payload": {**EXPENSE, "description": long}}).json
    approved = api.as_("bob").post(f"/api/tasks/{started['openTasks'][0]['id']}/complete",
                                   json={"outcome": "approve"})
    assert approved.status_code == 200, approved.json
    instance = api.get(f"/api/instances/{started['id']}").json
    assert instance["status"] == "paused", instance.get("error")
    title = instance["openTasks"][0]["title"]
    assert len(title) == 500 and title.endswith("…") and title.startswith("Finance check: 1,500.00 EUR")


def test_an_assignee_from_the_start_form_who_does_not_exist_is_a_field_error(api, rt):
    before = database_dump(rt)
    response = api.post("/api/instances", json={"definition": "expense-approval",
                                                 "payload": {**EXPENSE, "manager": "ghost"}})
    assert response.status_code == 422 and response.json["errors"] == {"manager": ["no active user 'ghost'"]}
    assert database_dump(rt) == before, "nothing was written"


def test_a_task_no_one_can_act_on_is_listed_for_admins(api, rt):
    orphan = {"id": "orphan", "name": "Orphan", "nodes": [
        {"id": "s", "type": "start"},
        {"id": "t", "type": "human-task", "data": {"title": "For someone who left", "assignee": "frank"}}],
        "edges": [{"id": "e", "source": "s", "target": "t"}]}
    import_definition(rt, SYSTEM_ACTOR, orphan)  # a process naming someone who does not exist is refused
    set_active(rt, Actor("admin", frozenset({"admin"})), "frank", False)  # frank left after it was published
    started = api.post("/api/instances", json={"definition": "orphan", "payload": {}})
    assert started.status_code == 201 and started.json["status"] == "paused"
    normal = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    listed = api.as_("admin").get("/api/tasks?scope=orphaned").json
    assert [t["instanceId"] for t in listed] == [started.json["id"]]
    assert normal["id"] not in {t["instanceId"] for t in listed}
    assert api.as_("bob").get("/api/tasks?scope=orphaned").status_code == 403


def test_publishing_warns_when_a_form_field_can_be_longer_than_the_node_field_it_fills(api):
    import json

    from ..conftest import REPO

    body = json.loads((REPO / "processes" / "expense-approval.json").read_text())
    report = api.as_("dana").post("/api/definitions/validate", json=body).json
    assert not [p for p in report["problems"] if "takes at most" in p["message"]], "our forms bound their fields"
    body["nodes"][1]["data"]["assignee"] = "{{ submit.last.data.description }}"  # up to 2,000 characters
    report = api.as_("dana").post("/api/definitions/validate", json=body).json
    warned = [p for p in report["problems"] if "takes at most 100 characters" in p["message"]]
    assert [(p["path"], p["severity"]) for p in warned] == [("$.nodes[1].data.assignee", "warning")]
    assert "field 'description' of form 'expense-request' allows 2000" in warned[0]["message"]


def test_a_task_only_its_requester_could_decide_is_listed_for_admins(api, rt):
    admin = Actor("admin", frozenset({"admin"}))
    create_group(rt, admin, "buyers", "Buyers")
    add_member(rt, admin, "buyers", "carol")
    lone = {"id": "lone", "name": "Lone buyer", "nodes": [
        {"id": "s", "type": "start"},
        {"id": "t", "type": "human-task", "data": {"title": "Buy it?", "candidateGroups": ["buyers"],
                                                   "outcomes": ["approve", "reject"]}},
        {"id": "done", "type": "end"}],
        "edges": [{"id": "e", "source": "s", "target": "t"},
                  {"id": "a", "source": "t", "target": "done", "sourceHandle": "approve"},
                  {"id": "r", "source": "t", "target": "done", "sourceHandle": "reject"}]}
    import_definition(rt, SYSTEM_ACTOR, lone)
    by_carol = api.as_("carol").post("/api/instances", json={"definition": "lone", "payload": {}}).json
    by_ann = api.as_("ann").post("/api/instances", json={"definition": "lone", "payload": {}}).json
    listed = {t["instanceId"] for t in api.as_("admin").get("/api/tasks?scope=orphaned").json}
    assert by_carol["id"] in listed, "carol is the only buyer, and four-eyes bars her from her own request"
    assert by_ann["id"] not in listed, "carol can decide ann's"
    add_member(rt, admin, "buyers", "frank")
    listed = {t["instanceId"] for t in api.as_("admin").get("/api/tasks?scope=orphaned").json}
    assert by_carol["id"] not in listed, "now frank can"
