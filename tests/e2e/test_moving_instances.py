"""Moving running instances to a new version: a dry run first, then one transaction each, on record."""

from __future__ import annotations

import copy

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition

from ..conftest import database_dump

V1 = {"id": "purchase-move", "name": "Purchase", "nodes": [
    {"id": "ask", "type": "start"},
    {"id": "review", "type": "human-task", "data": {"title": "Review the purchase", "assignee": "bob",
                                                     "outcomes": ["approve"]}},
    {"id": "check", "type": "human-task", "data": {"title": "Check the invoice", "assignee": "dave",
                                                    "outcomes": ["done"]}},
    {"id": "end", "type": "end", "data": {"outcome": "bought"}}],
    "edges": [{"id": "e1", "source": "ask", "target": "review"},
              {"id": "e2", "source": "review", "target": "check", "sourceHandle": "approve"},
              {"id": "e3", "source": "check", "target": "end", "sourceHandle": "done"}]}


def _v2() -> dict:
    """``review`` renamed ``manager_review`` (same data); ``check`` gone, replaced by ``finance``."""
    v2 = copy.deepcopy(V1)
    v2["nodes"][1]["id"] = "manager_review"
    v2["nodes"][2] = {"id": "finance", "type": "human-task", "data": {
        "title": "Finance check", "candidateGroups": ["finance"], "outcomes": ["done"]}}
    v2["edges"] = [{"id": "e1", "source": "ask", "target": "manager_review"},
                   {"id": "e2", "source": "manager_review", "target": "finance", "sourceHandle": "approve"},
                   {"id": "e3", "source": "finance", "target": "end", "sourceHandle": "done"}]
    return v2


def _started(api, count: int) -> list[dict]:
    return [api.post("/api/instances", json={"definition": "purchase-move", "payload": {}}).json
            for _ in range(count)]


def test_fifty_waiting_instances_move_with_a_renamed_node_and_one_at_a_removed_node_is_refused(api, rt):
    import_definition(rt, SYSTEM_ACTOR, V1)
    started = _started(api, 50)
    past = started[0]  # this one goes on to 'check', which version 2 no longer has
    api.as_("bob").post(f"/api/tasks/{past['openTasks'][0]['id']}/complete", json={"outcome": "approve"})
    import_definition(rt, SYSTEM_ACTOR, _v2())
    body = {"fromVersion": 1, "toVersion": 2, "nodeMapping": {"review": "manager_review"}}
    before = database_dump(rt)
    plan = api.as_("admin").post("/api/definitions/purchase-move/migrations?dryRun=true", json=body)
    assert plan.status_code == 200, plan.json
    assert plan.json["dryRun"] is True and len(plan.json["moved"]) == 49
    assert [(r["instanceId"], r["nodes"]) for r in plan.json["refused"]] == [(past["id"], ["check"])]
    assert "version 2 does not have" in plan.json["refused"][0]["reason"]
    assert plan.json["moved"][0]["nodes"] == ["review"] and plan.json["moved"][0]["to"] == ["manager_review"]
    assert plan.json["moved"][0]["recreated"] == [], "the renamed node is unchanged: its task follows it"
    assert database_dump(rt) == before, "a dry run writes nothing"

    done = api.as_("admin").post("/api/definitions/purchase-move/migrations", json=body).json
    assert done["dryRun"] is False and len(done["moved"]) == 49 and len(done["refused"]) == 1
    moved = started[1]
    instance = api.get(f"/api/instances/{moved['id']}").json
    assert (instance["definitionVersion"], instance["currentNodeId"]) == (2, "manager_review")
    task = instance["openTasks"][0]
    assert task["id"] == moved["openTasks"][0]["id"] and task["nodeId"] == "manager_review", "the same task"
    history = api.get(f"/api/instances/{moved['id']}/history").json
    entry = next(h for h in history if h["cause"] == "migrated")
    assert entry["actor"] == "admin" and entry["changes"]["definitionVersion"] == [1, 2]
    assert entry["changes"]["nodes"] == [["review"], ["manager_review"]]
    assert api.as_("bob").post(f"/api/tasks/{task['id']}/complete", json={"outcome": "approve"}).status_code == 200
    after = api.get(f"/api/instances/{moved['id']}").json
    assert [t["nodeId"] for t in after["openTasks"]] == ["finance"], "it goes on along version 2"
    assert api.get(f"/api/instances/{past['id']}").json["definitionVersion"] == 1, "the refused one stays"


def test_a_changed_node_has_its_task_made_again_as_the_new_version_says(api, rt):
    import_definition(rt, SYSTEM_ACTOR, V1)
    (one,) = _started(api, 1)
    v2 = copy.deepcopy(V1)
    v2["nodes"][1]["data"]["title"] = "Review the purchase (with the new limits)"
    import_definition(rt, SYSTEM_ACTOR, v2)
    done = api.as_("admin").post("/api/definitions/purchase-move/migrations",
                                 json={"fromVersion": 1, "toVersion": 2, "instanceIds": [one["id"]]}).json
    assert done["moved"][0]["recreated"] == ["review"]
    instance = api.get(f"/api/instances/{one['id']}").json
    (task,) = instance["openTasks"]
    assert task["title"] == "Review the purchase (with the new limits)" and task["id"] != one["openTasks"][0]["id"]
    old = api.as_("bob").get(f"/api/tasks/{one['openTasks'][0]['id']}").json
    assert old["status"] == "cancelled"


def test_only_admins_move_instances_and_bad_requests_name_their_field(api, rt):
    import_definition(rt, SYSTEM_ACTOR, V1)
    _started(api, 2)
    import_definition(rt, SYSTEM_ACTOR, _v2())
    body = {"fromVersion": 1, "toVersion": 2, "nodeMapping": {"review": "manager_review"}}
    before = database_dump(rt)
    for user in ("ann", "dana", "audrey"):
        assert api.as_(user).post("/api/definitions/purchase-move/migrations", json=body).status_code == 403
    assert database_dump(rt) == before, "a refusal changed nothing"
    bad = api.as_("admin").post("/api/definitions/purchase-move/migrations",
                                json={**body, "nodeMapping": {"review": "nowhere"}})
    assert bad.status_code == 422 and "nodeMapping" in bad.json["errors"]
    same = api.as_("admin").post("/api/definitions/purchase-move/migrations", json={**body, "toVersion": 1})
    assert same.status_code == 422 and "toVersion" in same.json["errors"]
    missing = api.as_("admin").post("/api/definitions/purchase-move/migrations", json={**body, "toVersion": 9})
    assert missing.status_code == 422 and "toVersion" in missing.json["errors"]
    assert database_dump(rt) == before


def _page(client, user: str, url: str):
    return client.get(url, headers={"X-BPM-User": user, "Accept": "text/html"})


def test_the_admin_page_shows_the_dry_run_and_moves_on_confirmation(client, api, rt):
    import_definition(rt, SYSTEM_ACTOR, V1)
    started = _started(api, 3)
    import_definition(rt, SYSTEM_ACTOR, _v2())
    query = "/admin/move?process=purchase-move&from=1&to=2&mapping=review+%3D+manager_review"
    assert _page(client, "ann", query).status_code == 403
    before = database_dump(rt)
    page = _page(client, "admin", query)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "3 would move from version 1 to 2" in text and "Move 3 requests" in text
    assert database_dump(rt) == before, "looking writes nothing"
    bad = _page(client, "admin", "/admin/move?process=purchase-move&from=1&to=2&mapping=review")
    assert bad.status_code == 422 and "write each line as old = new" in bad.get_data(as_text=True)
    done = client.post("/admin/move", data={"process": "purchase-move", "from": "1", "to": "2",
                                            "mapping": "review = manager_review"},
                       headers={"X-BPM-User": "admin", "Accept": "text/html"}, follow_redirects=True)
    assert "Moved 3 to version 2." in done.get_data(as_text=True)
    assert {api.get(f"/api/instances/{s['id']}").json["definitionVersion"] for s in started} == {2}
