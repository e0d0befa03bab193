"""Nothing is left that no one can act on: admins cancel failed instances and repair stranded ones."""

from __future__ import annotations

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition

from ..conftest import database_dump


def _broken(key: str, lookup: str) -> dict:
    # one key per test: the engine cache knows a version by its row id, which a wiped test database reuses
    return {"id": key, "name": "Fragile", "nodes": [
        {"id": "s", "type": "start"},
        {"id": "calc", "type": "set", "data": {"values": {"rate": f"{{{{ {lookup} }}}}"}}},
        {"id": "review", "type": "human-task", "data": {"title": "Check the rate", "assignee": "bob"}}],
        "edges": [{"id": "e1", "source": "s", "target": "calc"}, {"id": "e2", "source": "calc", "target": "review"}]}


def test_an_admin_cancels_a_failed_instance_and_nobody_else_can(api, rt):
    import_definition(rt, SYSTEM_ACTOR, _broken("fragile-a", "s.output.rates[0]"))
    failed = api.post("/api/instances", json={"definition": "fragile-a", "payload": {}}).json
    assert failed["status"] == "failed"
    before = database_dump(rt)
    assert api.post(f"/api/instances/{failed['id']}/cancel", json={}).status_code == 403, "not even its starter"
    assert database_dump(rt) == before
    cancelled = api.as_("admin").post(f"/api/instances/{failed['id']}/cancel", json={"reason": "bad definition"})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"


def test_an_admin_moves_a_stranded_instance_onto_the_fixed_version_and_it_runs_on(api, rt):
    import_definition(rt, SYSTEM_ACTOR, _broken("fragile-b", "s.output.rates[0]"))
    failed = api.post("/api/instances", json={"definition": "fragile-b", "payload": {}}).json
    assert failed["status"] == "failed" and failed["currentNodeId"] == "calc"
    fixed = import_definition(rt, SYSTEM_ACTOR, _broken("fragile-b", "s.output.rate || 1"))
    assert fixed.version == 2
    url = f"/api/instances/{failed['id']}/repair"
    assert api.as_("bob").post(url, json={"reason": "x", "version": 2}).status_code == 404, "not bob's business"
    assert api.post(url, json={"reason": "x", "version": 2}).status_code == 403, "its starter: not an admin"
    assert api.as_("admin").post(url, json={"reason": "x", "version": 2, "node": "nowhere"}).status_code == 422
    assert api.as_("admin").post(url, json={"version": 2}).status_code == 422, "a repair says why"
    repaired = api.as_("admin").post(url, json={"reason": "rates were read wrongly", "version": 2})
    assert repaired.status_code == 200, repaired.json
    assert (repaired.json["status"], repaired.json["definitionVersion"]) == ("paused", 2)
    assert [t["nodeId"] for t in repaired.json["openTasks"]] == ["review"]
    *_, entry, opened = api.get(f"/api/instances/{failed['id']}/history").json
    assert (entry["cause"], entry["actor"]) == ("repaired", "admin")
    assert (opened["cause"], opened["actor"], opened["nodeId"]) == ("task_created", "admin", "review")
    assert entry["changes"] == {"node": ["calc", "calc"], "definitionVersion": [1, 2],
                                "reason": [None, "rates were read wrongly"]}


def test_an_admin_moves_an_instance_to_a_chosen_node_closing_its_open_task(api, rt):
    import_definition(rt, SYSTEM_ACTOR, _broken("fragile-c", "1"))
    paused = api.post("/api/instances", json={"definition": "fragile-c", "payload": {}}).json
    old_task = paused["openTasks"][0]["id"]
    moved = api.as_("admin").post(f"/api/instances/{paused['id']}/repair",
                                  json={"reason": "recalculate", "node": "calc"})
    assert moved.status_code == 200 and moved.json["status"] == "paused"
    assert api.as_("bob").get(f"/api/tasks/{old_task}").json["status"] == "cancelled"
    assert [t["id"] for t in moved.json["openTasks"]] != [old_task]
