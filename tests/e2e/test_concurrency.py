"""Concurrency never loses an update: racing completions give exactly one winner and one 409."""

from __future__ import annotations

import threading

from sqlmodel import func, select

from bpm.store.models import HistoryEntry, ProcessInstance

from ..conftest import EXPENSE, Api


def _race(app, calls):
    """Run each ``(user, method, url, json)`` in its own thread, released together."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, user, url, body):
        api = Api(app.test_client(), user)
        barrier.wait()
        results[i] = api.post(url, json=body)

    threads = [threading.Thread(target=worker, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_people_completing_the_same_task_at_once_one_wins_one_gets_409(app, api, rt):
    for round_ in range(5):
        started = api.post("/api/instances", json={"definition": "expense-approval",
                                                   "payload": {**EXPENSE, "manager": "admin", "amount": 10}})
        instance_id, task_id = started.json["id"], started.json["openTasks"][0]["id"]
        url = f"/api/tasks/{task_id}/complete"
        results = _race(app, [("admin", url, {"outcome": "approve"}),
                              ("admin", url, {"outcome": "reject", "data": {"comment": "late"}})])
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409], (round_, [r.json for r in results])
        loser = next(r for r in results if r.status_code == 409)
        assert loser.json["code"] == 409 and loser.json["message"]
        with rt.uow() as uow:
            completions = uow.session.exec(select(func.count()).select_from(HistoryEntry).where(
                HistoryEntry.instance_id == instance_id, HistoryEntry.cause == "task_completed")).one()
            instance = uow.session.get(ProcessInstance, instance_id)
        winner = next(r for r in results if r.status_code == 200)
        approved = winner.json["outcome"] == "approve"
        assert completions == 1
        assert instance.revision == 2, "the snapshot was written exactly once more"
        assert instance.snapshot["version"] == (5 if approved else 4)  # nodes completed on the winner's path
        assert instance.outcome == ("approved" if approved else "rejected")


def test_many_instances_advance_in_parallel_without_conflicts(app, api, rt):
    tasks = []
    for _ in range(8):
        started = api.post("/api/instances", json={"definition": "expense-approval",
                                                   "payload": {**EXPENSE, "amount": 10}})
        tasks.append(started.json["openTasks"][0]["id"])
    results = _race(app, [("bob", f"/api/tasks/{t}/complete", {"outcome": "approve"}) for t in tasks])
    assert [r.status_code for r in results] == [200] * 8
    with rt.uow() as uow:
        statuses = uow.session.exec(select(ProcessInstance.status)).all()
    assert statuses == ["completed"] * 8


def test_two_designers_saving_the_first_draft_of_a_process_at_once_never_get_a_500(app, rt):
    from sqlmodel import select as select_

    from bpm.store.models import ProcessDefinition

    from .test_definitions_api import PURCHASE

    for _ in range(3):
        results = _race(app, [("dana", "/api/definitions", PURCHASE), ("admin", "/api/definitions", PURCHASE)])
        codes = sorted(r.status_code for r in results)
        assert codes in ([201, 201], [201, 409]), [r.json for r in results]
        with rt.uow() as uow:
            versions = uow.session.exec(select_(ProcessDefinition.version).where(
                ProcessDefinition.key == "purchase")).all()
        assert versions == [1], "one draft, never two version-1 rows"


def test_claim_unclaim_complete_and_cancel_racing_on_a_group_task_leave_offers_that_match_the_task(app, api, rt):
    from sqlalchemy import text

    from bpm.store.models import Task

    def finance_task():
        started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
        api.as_("bob").post(f"/api/tasks/{started.json['openTasks'][0]['id']}/complete", json={"outcome": "approve"})
        return started.json["id"], api.as_("admin").get(f"/api/tasks?scope=all&instanceId={started.json['id']}"
                                                         ).json[0]["id"]

    for round_ in range(4):
        instance_id, task_id = finance_task()
        calls = [("carol", f"/api/tasks/{task_id}/claim", {}), ("admin", f"/api/tasks/{task_id}/claim", {}),
                 ("carol", f"/api/tasks/{task_id}/complete", {"outcome": "approve"}),
                 ("ann", f"/api/instances/{instance_id}/cancel", {})]
        codes = [r.status_code for r in _race(app, calls)]
        assert all(code in (200, 403, 409) for code in codes), (round_, codes)
        with rt.uow() as uow:
            task = uow.session.get(Task, task_id)
            offers = uow.execute(text("SELECT count(*) FROM task_candidate WHERE task_id = :id"), {"id": task_id})
            count = offers.scalar()
        claimable = task.status == "open" and task.assignee is None
        assert count == (1 if claimable else 0), (round_, codes, task.status, task.assignee, count)
