"""Approvals with several voters: one task each, decided by the node's policy, the rest cancelled, every vote kept."""

from __future__ import annotations

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition

from ..conftest import database_dump


def _board(key: str, approvers: list[str], completion, reject_policy: str = "first-rejects") -> dict:
    return {"id": key, "name": "Board approval", "nodes": [
        {"id": "ask", "type": "start"},
        {"id": "board", "type": "human-task", "data": {
            "title": "Board vote", "form": "approval-decision", "approvers": approvers, "completion": completion,
            "rejectPolicy": reject_policy, "outcomes": ["approve", "reject"]}},
        {"id": "yes", "type": "end", "data": {"outcome": "approved"}},
        {"id": "no", "type": "end", "data": {"outcome": "rejected"}}],
        "edges": [{"id": "e1", "source": "ask", "target": "board"},
                  {"id": "e2", "source": "board", "target": "yes", "sourceHandle": "approve"},
                  {"id": "e3", "source": "board", "target": "no", "sourceHandle": "reject"}]}


def test_three_approvers_at_least_two_completes_on_the_second_approval(api, rt):
    import_definition(rt, SYSTEM_ACTOR, _board("board-a", ["bob", "dave", "group:finance"], {"atLeast": 2}))
    started = api.post("/api/instances", json={"definition": "board-a", "payload": {}}).json
    votes = {t["assignee"] or t["candidateGroups"][0]: t for t in started["openTasks"]}
    assert set(votes) == {"bob", "dave", "finance"}
    assert api.as_("bob").post(f"/api/tasks/{votes['bob']['id']}/complete", json={"outcome": "approve"}
                               ).status_code == 200
    waiting = api.get(f"/api/instances/{started['id']}").json
    assert waiting["status"] == "paused" and len(waiting["openTasks"]) == 2, "one approval of two: still open"
    assert api.as_("dave").post(f"/api/tasks/{votes['dave']['id']}/complete",
                                json={"outcome": "approve", "data": {"comment": "fine"}}).status_code == 200
    done = api.get(f"/api/instances/{started['id']}").json
    assert (done["status"], done["outcome"]) == ("completed", "approved")
    output = done["snapshot"]["context"]["board"][-1]["output"]
    assert output["outcome"] == "approve" and [(v["by"], v["outcome"], v["data"]) for v in output["votes"]] == [
        ("bob", "approve", {}), ("dave", "approve", {"comment": "fine"})]
    finance = api.as_("carol").get(f"/api/tasks/{votes['finance']['id']}").json
    assert finance["status"] == "cancelled", "the vote nobody needed any more"
    causes = [h["cause"] for h in api.get(f"/api/instances/{started['id']}/history").json]
    assert causes == ["started", "task_created", "task_created", "task_created", "vote_cast", "task_completed"], \
        "three voters' tasks opened"


def test_the_first_rejection_ends_a_vote_and_a_majority_waits_for_more(api, rt):
    import_definition(rt, SYSTEM_ACTOR, _board("board-b", ["bob", "dave", "erin"], "all"))
    started = api.post("/api/instances", json={"definition": "board-b", "payload": {}}).json
    bob = next(t for t in started["openTasks"] if t["assignee"] == "bob")
    api.as_("bob").post(f"/api/tasks/{bob['id']}/complete", json={"outcome": "reject", "data": {"comment": "no"}})
    assert api.get(f"/api/instances/{started['id']}").json["outcome"] == "rejected"

    import_definition(rt, SYSTEM_ACTOR, _board("board-c", ["bob", "dave", "erin"], "any", "majority"))
    started = api.post("/api/instances", json={"definition": "board-c", "payload": {}}).json
    by = {t["assignee"]: t["id"] for t in started["openTasks"]}
    api.as_("bob").post(f"/api/tasks/{by['bob']}/complete", json={"outcome": "reject", "data": {"comment": "no"}})
    assert api.get(f"/api/instances/{started['id']}").json["status"] == "paused", "one of three is no majority"
    api.as_("erin").post(f"/api/tasks/{by['erin']}/complete", json={"outcome": "approve"})
    assert api.get(f"/api/instances/{started['id']}").json["outcome"] == "approved", "any approval carries it"


def test_four_eyes_holds_per_vote_and_one_person_never_votes_twice(api, rt):
    import_definition(rt, SYSTEM_ACTOR, _board("board-d", ["ann", "carol", "group:finance"], {"atLeast": 2}))
    started = api.post("/api/instances", json={"definition": "board-d", "payload": {}}).json
    tasks = {t["assignee"] or t["candidateGroups"][0]: t["id"] for t in started["openTasks"]}
    before = database_dump(rt)
    refused = api.post(f"/api/tasks/{tasks['ann']}/complete", json={"outcome": "approve"})
    assert refused.status_code == 403 and "four-eyes" in refused.json["message"], "ann asked: her vote is not hers"
    twice = api.as_("carol").post(f"/api/tasks/{tasks['finance']}/claim")
    assert twice.status_code == 403 and "one person, one vote" in twice.json["message"]
    assert database_dump(rt) == before
    assert api.as_("carol").post(f"/api/tasks/{tasks['carol']}/complete", json={"outcome": "approve"}
                                 ).status_code == 200
    again = api.as_("carol").post(f"/api/tasks/{tasks['finance']}/complete", json={"outcome": "approve"})
    assert again.status_code == 403 and "one person, one vote" in again.json["message"]
    assert api.as_("frank").post(f"/api/tasks/{tasks['finance']}/complete", json={"outcome": "approve"}
                                 ).status_code == 200
    assert api.get(f"/api/instances/{started['id']}").json["outcome"] == "approved"
