"""One task per item: a review per department named in the request, in parallel or one after the other."""

from __future__ import annotations

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition

DEPARTMENTS = [{"name": "Finance", "group": "finance"}, {"name": "HR", "group": "hr"},
               {"name": "Heads", "group": "department-heads"}]
REVIEWER = {"finance": "carol", "hr": "hana", "department-heads": "dave"}


def _per_department(key: str, sequential: bool = False, completion="all") -> dict:
    return {"id": key, "name": "Policy change", "nodes": [
        {"id": "ask", "type": "start"},
        {"id": "reviews", "type": "human-task", "data": {
            "title": "Review for {{ item.name }} ({{ itemIndex + 1 }} of {{ data.departments|length }})",
            "form": "approval-decision", "forEach": "{{ data.departments }}", "sequential": sequential,
            "candidateGroups": ["{{ item.group }}"], "outcomes": ["approve", "reject"], "completion": completion}},
        {"id": "yes", "type": "end", "data": {"outcome": "approved"}},
        {"id": "no", "type": "end", "data": {"outcome": "rejected"}}],
        "edges": [{"id": "e1", "source": "ask", "target": "reviews"},
                  {"id": "e2", "source": "reviews", "target": "yes", "sourceHandle": "approve"},
                  {"id": "e3", "source": "reviews", "target": "no", "sourceHandle": "reject"}]}


def _start(api, rt, definition: dict, departments: list) -> dict:
    import_definition(rt, SYSTEM_ACTOR, definition)
    return api.post("/api/instances", json={"definition": definition["id"], "payload": {
        "departments": departments}}).json


def _decide(api, task: dict, outcome: str) -> int:
    user = REVIEWER[task["candidateGroups"][0]]
    body = {"outcome": outcome, **({"data": {"comment": "not like this"}} if outcome == "reject" else {})}
    return api.as_(user).post(f"/api/tasks/{task['id']}/complete", json=body).status_code


def test_three_departments_review_at_once_and_one_reject_ends_it(api, rt):
    started = _start(api, rt, _per_department("policy-a"), DEPARTMENTS)
    tasks = {t["candidateGroups"][0]: t for t in started["openTasks"]}
    assert sorted(t["title"] for t in tasks.values()) == [
        "Review for Finance (1 of 3)", "Review for HR (2 of 3)", "Review for Heads (3 of 3)"]
    assert [tasks[g]["item"] for g in ("finance", "hr", "department-heads")] == DEPARTMENTS
    assert _decide(api, tasks["finance"], "approve") == 200
    assert api.get(f"/api/instances/{started['id']}").json["status"] == "paused"
    assert _decide(api, tasks["hr"], "reject") == 200
    done = api.get(f"/api/instances/{started['id']}").json
    assert (done["status"], done["outcome"]) == ("completed", "rejected")
    output = done["snapshot"]["context"]["reviews"][-1]["output"]
    assert output["outcome"] == "reject"
    assert [(r["index"], r["item"]["name"], r["by"], r["outcome"]) for r in output["items"]] == [
        (0, "Finance", "carol", "approve"), (1, "HR", "hana", "reject")]
    heads = api.as_("dave").get(f"/api/tasks/{tasks['department-heads']['id']}").json
    assert heads["status"] == "cancelled", "decided without it"
    causes = [h["cause"] for h in api.get(f"/api/instances/{started['id']}/history").json]
    assert causes.count("task_created") == 3 and "items_decided" in causes


def test_one_after_the_other_opens_the_next_department_when_the_one_before_is_done(api, rt):
    started = _start(api, rt, _per_department("policy-b", sequential=True), DEPARTMENTS)
    for i, department in enumerate(DEPARTMENTS):
        open_tasks = api.get(f"/api/instances/{started['id']}").json["openTasks"]
        assert [t["candidateGroups"] for t in open_tasks] == [[department["group"]]], i
        assert open_tasks[0]["title"] == f"Review for {department['name']} ({i + 1} of 3)"
        assert _decide(api, open_tasks[0], "approve") == 200
    done = api.get(f"/api/instances/{started['id']}").json
    assert (done["status"], done["outcome"]) == ("completed", "approved")
    items = done["snapshot"]["context"]["reviews"][-1]["output"]["items"]
    assert [r["item"]["name"] for r in items] == ["Finance", "HR", "Heads"]


def test_one_person_may_review_two_items_unlike_a_vote(api, rt):
    two = [{"name": "Legal", "group": "department-heads"}, {"name": "Risk", "group": "department-heads"}]
    started = _start(api, rt, _per_department("policy-c"), two)
    for task in started["openTasks"]:
        assert _decide(api, task, "approve") == 200
    assert api.get(f"/api/instances/{started['id']}").json["outcome"] == "approved"


def test_an_empty_list_needs_no_review(api, rt):
    started = _start(api, rt, _per_department("policy-d"), [])
    assert (started["status"], started["outcome"]) == ("completed", "approved") and started["openTasks"] == []


def test_a_list_that_is_not_a_list_fails_the_instance_with_the_reason(api, rt):
    started = _start(api, rt, _per_department("policy-e"), "finance")
    assert started["status"] == "failed" and "forEach gave no list" in started["error"]
