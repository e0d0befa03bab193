"""Parallel branches in the service: tasks in several inboxes at once, both completed at the same moment, joins."""

from __future__ import annotations

from sqlmodel import select

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition
from bpm.scheduler import Worker
from bpm.store.models import Job

from ..conftest import database_dump
from .test_concurrency import _race


def _contract(key: str, mode="all", cancel: bool = False) -> dict:
    join = {"mode": mode, **({"cancelRemaining": True} if cancel else {})}
    return {"id": key, "name": "Contract review", "nodes": [
        {"id": "ask", "type": "start"},
        {"id": "both", "type": "fork", "metadata": {"label": "Legal and finance at once"}},
        {"id": "legal", "type": "human-task", "data": {
            "title": "Legal review", "form": "approval-decision", "assignee": "dave",
            "outcomes": ["approve", "reject"], "escalations": [{"after": "P2D", "action": "remind"}]}},
        {"id": "finance", "type": "human-task", "data": {
            "title": "Finance review", "form": "approval-decision", "candidateGroups": ["finance"],
            "outcomes": ["approve", "reject"]}},
        {"id": "joined", "type": "join", "data": join},
        {"id": "signed", "type": "end", "data": {"outcome": "signed"}}],
        "edges": [{"id": "e1", "source": "ask", "target": "both"},
                  {"id": "e2", "source": "both", "target": "legal"},
                  {"id": "e3", "source": "both", "target": "finance"},
                  {"id": "e4", "source": "legal", "target": "joined", "sourceHandle": "approve"},
                  {"id": "e5", "source": "finance", "target": "joined", "sourceHandle": "approve"},
                  {"id": "e6", "source": "joined", "target": "signed"}]}


def _started(api, rt, key: str, **kwargs) -> tuple[str, dict[str, str]]:
    import_definition(rt, SYSTEM_ACTOR, _contract(key, **kwargs))
    started = api.post("/api/instances", json={"definition": key, "payload": {}}).json
    for _ in range(5):  # a start whose run used up its CPU slice (a GC pause counts) ends in the worker
        if api.get(f"/api/instances/{started['id']}").json["status"] != "active":
            break
        Worker(rt).tick()
    waiting = api.get(f"/api/instances/{started['id']}").json["openTasks"]
    return started["id"], {t["nodeId"]: t["id"] for t in waiting}


def test_a_contract_waits_in_legal_and_finance_inboxes_at_once(api, rt):
    instance_id, tasks = _started(api, rt, "contract-a")
    assert set(tasks) == {"legal", "finance"}
    assert tasks["legal"] in [t["id"] for t in api.as_("dave").get("/api/tasks").json]
    assert tasks["finance"] in [t["id"] for t in api.as_("carol").get("/api/tasks").json]
    instance = api.get(f"/api/instances/{instance_id}").json
    assert instance["status"] == "paused" and {p["nodeId"] for p in instance["snapshot"]["positions"]} == {
        "legal", "finance"}
    assert api.as_("dave").post(f"/api/tasks/{tasks['legal']}/complete", json={"outcome": "approve"}
                                ).status_code == 200
    halfway = api.get(f"/api/instances/{instance_id}").json
    assert halfway["status"] == "paused" and [t["nodeId"] for t in halfway["openTasks"]] == ["finance"]
    assert api.as_("carol").post(f"/api/tasks/{tasks['finance']}/complete", json={"outcome": "approve"}
                                 ).status_code == 200
    done = api.get(f"/api/instances/{instance_id}").json
    assert (done["status"], done["outcome"]) == ("completed", "signed")
    assert "positions" not in done["snapshot"] and len(done["snapshot"]["context"]["joined"]) == 1


def test_two_reviewers_completing_at_the_same_moment_both_succeed_and_the_join_fires_once(app, api, rt):
    for round_ in range(4):
        instance_id, tasks = _started(api, rt, f"contract-race-{round_}")
        results = _race(app, [("dave", f"/api/tasks/{tasks['legal']}/complete", {"outcome": "approve"}),
                              ("carol", f"/api/tasks/{tasks['finance']}/complete", {"outcome": "approve"})])
        assert [r.status_code for r in results] == [200, 200], (round_, [r.json for r in results])
        done = api.get(f"/api/instances/{instance_id}").json
        assert (done["status"], done["outcome"]) == ("completed", "signed"), round_
        assert len(done["snapshot"]["context"]["joined"]) == 1 and len(done["snapshot"]["context"]["signed"]) == 1
        causes = [h["cause"] for h in api.get(f"/api/instances/{instance_id}/history").json]
        assert causes.count("task_completed") == 2, causes


def test_a_first_join_with_cancel_remaining_closes_the_other_branch_and_its_escalations(api, rt):
    instance_id, tasks = _started(api, rt, "contract-c", mode="first", cancel=True)
    assert api.as_("carol").post(f"/api/tasks/{tasks['finance']}/complete", json={"outcome": "approve"}
                                 ).status_code == 200
    done = api.get(f"/api/instances/{instance_id}").json
    assert (done["status"], done["outcome"]) == ("completed", "signed") and done["openTasks"] == []
    legal = api.as_("dave").get(f"/api/tasks/{tasks['legal']}").json
    assert legal["status"] == "cancelled"
    history = api.get(f"/api/instances/{instance_id}/history").json
    cancelled = [h for h in history if h["cause"] == "branch_cancelled"]
    assert len(cancelled) == 1 and cancelled[0]["nodeId"] == "legal"
    with rt.uow() as uow:
        reminders = uow.session.exec(select(Job.status).where(Job.task_id == tasks["legal"])).all()
    assert reminders and set(reminders) == {"cancelled"}, "the cancelled branch's escalation must never fire"
    late = api.as_("dave").post(f"/api/tasks/{tasks['legal']}/complete", json={"outcome": "approve"})
    assert late.status_code == 409


def test_cancelling_an_instance_cancels_every_branch(api, rt):
    instance_id, tasks = _started(api, rt, "contract-d")
    assert api.as_("admin").post(f"/api/instances/{instance_id}/cancel", json={"reason": "withdrawn"}
                                 ).status_code == 200
    for node, user in (("legal", "dave"), ("finance", "carol")):
        assert api.as_(user).get(f"/api/tasks/{tasks[node]}").json["status"] == "cancelled"


def test_a_refused_completion_in_one_branch_changes_nothing(api, rt):
    _, tasks = _started(api, rt, "contract-e")
    before = database_dump(rt)
    refused = api.as_("carol").post(f"/api/tasks/{tasks['legal']}/complete", json={"outcome": "approve"})
    assert refused.status_code in (403, 404)
    assert database_dump(rt) == before
