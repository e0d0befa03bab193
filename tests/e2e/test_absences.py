"""Out of office: a substitute sees and decides an absent person's tasks on their behalf; nothing moves.

Runs on SQLite and PostgreSQL (the ``database_url`` fixture). Dates are relative to the test clock's today.
"""

from __future__ import annotations

import datetime as dt

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition

from ..conftest import EXPENSE, database_dump


def _day(rt, days: int = 0) -> str:
    return (rt.days.today() + dt.timedelta(days=days)).isoformat()


def _away(api, rt, person: str, substitute: str, start: int = 0, end: int = 7, **more):
    return api.as_(person).post("/api/absences", json={"from": _day(rt, start), "to": _day(rt, end),
                                                      "substitute": substitute, **more})


def _task_of(api, user: str, instance_id: str, **params) -> dict:
    [task] = [t for t in api.as_(user).get("/api/tasks", query_string=params).json
              if t["instanceId"] == instance_id]
    return task


def _history(api, instance_id: str) -> list[tuple[str, str, str | None]]:
    return [(h["cause"], h["actor"], h["onBehalfOf"])
            for h in api.as_("audrey").get(f"/api/instances/{instance_id}/history").json]


def test_the_substitute_decides_a_task_waiting_before_the_absence_and_one_made_during_it(api, rt, client):
    before = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    recorded = _away(api, rt, "bob", "dave")
    assert recorded.status_code == 201, recorded.json
    assert recorded.json["person"] == "bob" and recorded.json["existingTasks"] is True
    during = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json

    for started in (before, during):
        task = _task_of(api, "dave", started["id"])  # bob's task, in dave's inbox; still bob's
        assert task["assignee"] == "bob"
        page = client.get(f"/tasks/{task['id']}", headers={"X-BPM-User": "dave"}).get_data(as_text=True)
        assert "standing in for bob, away until" in page
        done = api.as_("dave").post(f"/api/tasks/{task['id']}/complete", json={"outcome": "approve"})
        assert done.status_code == 200, done.json
        assert (done.json["completedBy"], done.json["assignee"]) == ("dave", "bob")
        assert ("task_completed", "dave", "bob") in _history(api, started["id"]), "both people are named"
        output = api.get(f"/api/instances/{started['id']}").json["snapshot"]["context"]["manager_review"][-1]
        assert output["output"]["completedBy"] == "dave" and output["output"]["onBehalfOf"] == "bob"

    inbox = client.get("/inbox", headers={"X-BPM-User": "dave"}).get_data(as_text=True)
    assert "for bob — away until" not in inbox, "both decided: nothing of bob's is left"


def test_only_new_tasks_and_only_some_processes_when_the_absence_says_so(api, rt):
    before = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    rt.clock.advance(60_000)
    assert _away(api, rt, "bob", "dave", existingTasks=False).status_code == 201
    rt.clock.advance(60_000)
    during = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    listed = {t["instanceId"] for t in api.as_("dave").get("/api/tasks").json}
    assert during["id"] in listed and before["id"] not in listed
    old = _task_of(api, "bob", before["id"])
    refused = api.as_("dave").post(f"/api/tasks/{old['id']}/complete", json={"outcome": "approve"})
    assert refused.status_code == 404, "waiting before the absence and not covered: dave is not related to it"

    [absence] = api.as_("bob").get("/api/absences").json
    assert api.as_("bob").delete(f"/api/absences/{absence['id']}").status_code == 204
    assert _away(api, rt, "bob", "dave", processes=["vacation-request"]).status_code == 201
    assert during["id"] not in {t["instanceId"] for t in api.as_("dave").get("/api/tasks").json}, \
        "an expense is not among the processes the absence covers"


def test_four_eyes_holds_for_the_substitute_and_for_the_person_she_stands_in_for(api, rt):
    assert _away(api, rt, "bob", "dave").status_code == 201
    own = api.as_("dave").post("/api/instances", json={"definition": "expense-approval", "payload": {
        **EXPENSE, "requester": "dave"}}).json
    import_definition(rt, SYSTEM_ACTOR, {"id": "purchase", "name": "Purchase", "nodes": [
        {"id": "ask", "type": "start"},
        {"id": "decide", "type": "human-task", "data": {"title": "Decide", "candidateUsers": ["bob", "erin"],
                                                        "outcomes": ["approve", "reject"]}},
        {"id": "done", "type": "end"}], "edges": [
            {"id": "e1", "source": "ask", "target": "decide"},
            {"id": "e2", "source": "decide", "target": "done", "sourceHandle": "approve"},
            {"id": "e3", "source": "decide", "target": "done", "sourceHandle": "reject"}]})
    bobs = api.as_("bob").post("/api/instances", json={"definition": "purchase", "payload": {}}).json
    dump = database_dump(rt)
    mine = _task_of(api, "dave", own["id"])
    refused = api.as_("dave").post(f"/api/tasks/{mine['id']}/complete", json={"outcome": "approve"})
    assert refused.status_code == 403 and "four-eyes: dave asked" in refused.json["message"]
    his = bobs["openTasks"][0]
    assert bobs["id"] not in {t["instanceId"] for t in api.as_("dave").get("/api/tasks").json}, \
        "bob may not decide his own request, so it is not offered to whoever stands in for him"
    refused = api.as_("dave").post(f"/api/tasks/{his['id']}/complete", json={"outcome": "approve"})
    assert refused.status_code == 403
    assert "you stand in for bob here, and four-eyes: bob asked" in refused.json["message"]
    assert database_dump(rt) == dump, "a refused decision changes nothing"


def test_a_substitute_holding_her_own_vote_and_the_absent_voters_counts_once(api, rt):
    board = {"id": "board", "name": "Board vote", "nodes": [
        {"id": "ask", "type": "start"},
        {"id": "vote", "type": "human-task", "data": {
            "title": "Board vote", "form": "approval-decision", "approvers": ["bob", "dave", "erin"],
            "completion": {"atLeast": 2}, "outcomes": ["approve", "reject"]}},
        {"id": "yes", "type": "end", "data": {"outcome": "approved"}},
        {"id": "no", "type": "end", "data": {"outcome": "rejected"}}],
        "edges": [{"id": "e1", "source": "ask", "target": "vote"},
                  {"id": "e2", "source": "vote", "target": "yes", "sourceHandle": "approve"},
                  {"id": "e3", "source": "vote", "target": "no", "sourceHandle": "reject"}]}
    import_definition(rt, SYSTEM_ACTOR, board)
    assert _away(api, rt, "bob", "dave").status_code == 201
    started = api.post("/api/instances", json={"definition": "board", "payload": {}}).json
    votes = {t["assignee"]: t["id"] for t in started["openTasks"]}
    dump = database_dump(rt)
    first = api.as_("dave").post(f"/api/tasks/{votes['bob']}/complete", json={"outcome": "approve"})
    assert first.status_code == 403 and "one person, one vote" in first.json["message"]
    assert database_dump(rt) == dump
    assert api.as_("dave").post(f"/api/tasks/{votes['dave']}/complete", json={"outcome": "approve"}
                                ).status_code == 200
    again = api.as_("dave").post(f"/api/tasks/{votes['bob']}/complete", json={"outcome": "approve"})
    assert again.status_code == 403 and "one person, one vote" in again.json["message"]
    assert api.get(f"/api/instances/{started['id']}").json["status"] == "paused", "one voter so far, not two"


def test_overlapping_cyclic_and_impossible_absences_are_refused_with_the_field_and_nothing_written(api, rt):
    assert _away(api, rt, "bob", "dave", 2, 6).status_code == 201
    dump = database_dump(rt)
    cases = [
        (dict(person="bob", substitute="erin", start=5, end=9), "from", "bob is away from"),
        (dict(person="dave", substitute="bob", start=0, end=3), "substitute", "stand in for each other"),
        (dict(person="erin", substitute="bob", start=6, end=8), "substitute", "bob is away from"),
        (dict(person="erin", substitute="erin"), "substitute", "someone other than"),
        (dict(person="erin", substitute="nobody"), "substitute", "no active user"),
        (dict(person="erin", substitute="audrey"), "substitute", "does not work on tasks"),
        (dict(person="erin", substitute="dave", start=3, end=1), "to", "on or after"),
        (dict(person="erin", substitute="dave", start=-5, end=-1), "to", "in the past"),
        (dict(person="erin", substitute="dave", processes=["no-such-process"]), "processes", "no process"),
    ]
    for case, field, said in cases:
        person = case.pop("person")
        refused = _away(api, rt, person, **case)
        assert refused.status_code == 422, (case, refused.json)
        assert said in " ".join(refused.json["errors"][field]), (case, refused.json)
    bad_date = api.as_("erin").post("/api/absences", json={"from": "12.12.2026", "to": "", "substitute": "dave"})
    assert bad_date.status_code == 422 and set(bad_date.json["errors"]) == {"from", "to"}
    assert database_dump(rt) == dump


def test_no_cascading_b_away_never_forwards_a_s_work_to_c(api, rt):
    assert _away(api, rt, "bob", "dave").status_code == 201  # dave stands in for bob...
    assert _away(api, rt, "dave", "erin", 1, 3).status_code == 201  # ...and later is away himself
    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    rt.clock.advance(24 * 3600 * 1000)
    rt.actors.clear()
    assert started["id"] not in {t["instanceId"] for t in api.as_("erin").get("/api/tasks").json}


def test_who_may_record_list_and_remove_whose_absence(api, rt):
    dump = database_dump(rt)
    other = api.as_("ann").post("/api/absences", json={"from": _day(rt), "to": _day(rt, 2), "substitute": "dave",
                                                       "person": "bob"})
    assert other.status_code == 404, "ann may not record bob's absence (and is not told more)"
    assert database_dump(rt) == dump
    by_hr = api.as_("hana").post("/api/absences", json={"from": _day(rt), "to": _day(rt, 2), "substitute": "dave",
                                                        "person": "bob"})
    assert by_hr.status_code == 201 and by_hr.json["createdBy"] == "hana"
    assert [a["id"] for a in api.as_("bob").get("/api/absences").json] == [by_hr.json["id"]]
    assert [a["id"] for a in api.as_("dave").get("/api/absences").json] == [by_hr.json["id"]], \
        "the substitute sees whom he stands in for"
    assert api.as_("ann").get("/api/absences").json == []
    assert api.as_("ann").get("/api/absences", query_string={"person": "bob"}).status_code == 403
    assert len(api.as_("hana").get("/api/absences", query_string={"person": "bob"}).json) == 1
    assert api.as_("dave").delete(f"/api/absences/{by_hr.json['id']}").status_code == 404, \
        "the substitute does not end it"
    assert api.as_("bob").delete(f"/api/absences/{by_hr.json['id']}").status_code == 204
    with rt.uow() as uow:
        chain = [(e.cause, e.actor, e.details["substitute"]) for e in uow.audit_events.about("user:bob")]
    assert chain == [("absence_recorded", "hana", "dave"), ("absence_removed", "bob", "dave")]
