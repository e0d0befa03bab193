"""The expense-approval example, end to end over the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from bpm.runtime.history import rebuild_snapshot
from bpm.store.models import HistoryEntry, Job, OutboxMessage

from ..conftest import EXPENSE


def start_expense(api, **changes):
    response = api.as_("ann").post("/api/instances", json={"definition": "expense-approval",
                                                           "businessKey": changes.pop("business_key", None),
                                                           "payload": {**EXPENSE, **changes}})
    assert response.status_code == 201, response.json
    return response


def only_task(api, user):
    listed = api.as_(user).get("/api/tasks")
    assert listed.status_code == 200
    assert len(listed.json) == 1, listed.json
    return listed.json[0]


def test_a_large_expense_needs_the_manager_and_finance(api, rt):
    started = start_expense(api, business_key="EXP-1")
    instance_id = started.json["id"]
    assert started.json["status"] == "paused" and started.json["currentNodeId"] == "manager_review"
    assert started.headers["ETag"] == '"1"'
    review = started.json["openTasks"][0]
    assert review["title"] == "Approve expense of 1,500.00 EUR for ann"
    assert review["assignee"] == "bob" and review["outcomes"] == ["approve", "reject"]
    assert review["dueAt"] == "2026-01-03T00:00:00+00:00"

    assert api.as_("bob").post(f"/api/tasks/{review['id']}/complete", json={"outcome": "approve"}).status_code == 200
    finance = only_task(api, "carol")
    assert finance["candidateGroups"] == ["finance"] and finance["assignee"] is None
    assert api.as_("dave").get("/api/tasks").json == []
    done = api.as_("carol").post(f"/api/tasks/{finance['id']}/complete",
                                 json={"outcome": "approve", "data": {"comment": "ok"}})
    assert done.status_code == 200 and done.json["status"] == "completed"
    assert done.json["completedBy"] == "carol" and done.json["data"] == {"comment": "ok"}

    instance = api.get(f"/api/instances/{instance_id}")
    assert instance.json["status"] == "completed" and instance.json["outcome"] == "approved"
    assert instance.json["businessKey"] == "EXP-1" and instance.json["openTasks"] == []
    assert instance.headers["ETag"] == '"3"'
    history = api.get(f"/api/instances/{instance_id}/history").json
    assert [(h["revision"], h["cause"], h["actor"], h["status"]) for h in history] == [
        (1, "started", "ann", "paused"), (1, "task_created", "ann", "paused"), (2, "task_completed", "bob", "paused"),
        (2, "task_created", "bob", "paused"), (3, "task_completed", "carol", "completed")]
    with rt.uow() as uow:
        deltas = uow.session.exec(select(HistoryEntry.delta).where(HistoryEntry.instance_id == instance_id)
                                  .order_by(HistoryEntry.revision)).all()
        everything = uow.session.exec(select(OutboxMessage).where(OutboxMessage.instance_id == instance_id)
                                      .order_by(OutboxMessage.created_at)).all()
    messages = [m for m in everything if m.kind == "notify"]
    assert rebuild_snapshot(deltas).to_dict() == instance.json["snapshot"]
    assert [(m.channel, m.recipients, m.subject, m.status) for m in messages] == [
        ("email", ["ann"], "Expense approved", "pending")]
    assert [(m.kind, m.recipients) for m in everything if m.kind != "notify"] == [
        ("task-assigned", ["bob"]), ("task-offered", ["group:finance"]), ("request-finished", ["ann"])], \
        "the service's own notices: the task is yours, offered to your group, your request is finished"
    assert instance.json["snapshot"]["context"]["notify_approved"][0]["output"]["messageId"] == messages[0].id


def test_a_rejected_expense_tells_the_requester_and_ends_rejected(api, rt):
    started = start_expense(api, amount=80)
    task_id = started.json["openTasks"][0]["id"]
    refused = api.as_("bob").post(f"/api/tasks/{task_id}/complete", json={"outcome": "reject"})
    assert refused.status_code == 422
    assert refused.json["errors"] == {"comment": ["is required when you reject"]}
    rejected = api.as_("bob").post(f"/api/tasks/{task_id}/complete",
                                   json={"outcome": "reject", "data": {"comment": "no receipt"}})
    assert rejected.status_code == 200
    instance = api.get(f"/api/instances/{started.json['id']}").json
    assert instance["status"] == "completed" and instance["outcome"] == "rejected"
    with rt.uow() as uow:
        subjects = uow.session.exec(select(OutboxMessage.subject).where(OutboxMessage.kind == "notify")).all()
    assert subjects == ["Expense rejected"]


def test_a_small_expense_skips_finance(api):
    started = start_expense(api, amount=999)
    api.as_("bob").post(f"/api/tasks/{started.json['openTasks'][0]['id']}/complete", json={"outcome": "approve"})
    instance = api.get(f"/api/instances/{started.json['id']}").json
    assert instance["outcome"] == "approved"
    assert "finance_review" not in instance["snapshot"]["context"]


def test_escalations_and_due_dates_are_written_as_jobs_with_the_task(api, rt):
    started = start_expense(api)
    task_id = started.json["openTasks"][0]["id"]
    with rt.uow() as uow:
        jobs = uow.session.exec(select(Job).order_by(Job.due_at)).all()
    assert [(j.kind, j.task_id, j.due_at.isoformat(), j.payload["action"], j.status) for j in jobs] == [
        ("escalation", task_id, "2026-01-02T00:00:00+00:00", "remind", "pending"),
        ("escalation", task_id, "2026-01-03T00:00:00+00:00", "remind", "pending"),  # dueIn P2D: "due now"
        ("escalation", task_id, "2026-01-04T00:00:00+00:00", "timeout", "pending")]
    api.as_("bob").post(f"/api/tasks/{task_id}/complete", json={"outcome": "reject", "data": {"comment": "x"}})
    with rt.uow() as uow:
        assert set(uow.session.exec(select(Job.status)).all()) == {"cancelled"}


def test_only_the_assignee_may_complete_an_assigned_task(api):
    task_id = start_expense(api).json["openTasks"][0]["id"]
    refused = api.as_("carol").post(f"/api/tasks/{task_id}/complete", json={"outcome": "approve"})
    assert refused.status_code == 404, "carol has nothing to do with it: it does not exist for her"
    refused = api.as_("admin").post(f"/api/tasks/{task_id}/complete", json={"outcome": "approve"})
    assert refused.status_code == 403, "an admin sees it, but deciding is not an admin's power"
    assert api.as_("admin").post(f"/api/tasks/{task_id}/reassign", json={"to": "dave", "reason": "bob is away"}
                                 ).status_code == 200
    assert api.as_("dave").post(f"/api/tasks/{task_id}/complete", json={"outcome": "approve"}).status_code == 200


def test_the_vacation_request_waits_on_a_timer_until_the_eve_of_the_leave(api, rt):
    started = api.post("/api/instances", json={"definition": "vacation-request", "payload": {
        "employee": "ann", "manager": "bob", "firstDay": "2026-07-01", "lastDay": "2026-07-14"}})
    task_id = started.json["openTasks"][0]["id"]
    api.as_("bob").post(f"/api/tasks/{task_id}/complete", json={"outcome": "approve"})
    instance = api.get(f"/api/instances/{started.json['id']}").json
    assert instance["status"] == "paused" and instance["currentNodeId"] == "wait_until_eve"
    with rt.uow() as uow:
        timer = uow.session.exec(select(Job).where(Job.kind == "timer")).one()
        mails = uow.session.exec(select(OutboxMessage.recipients).where(OutboxMessage.kind == "notify")).all()
    assert timer.due_at.isoformat() == "2026-06-30T09:00:00+00:00" and timer.node_id == "wait_until_eve"
    assert mails == [["hr@example.com"]]


def test_content_approval_loops_at_most_three_rounds(api):
    started = api.as_("ann").post("/api/instances", json={"definition": "content-approval", "payload": {
        "author": "ann", "title": "Hello", "body": "A first post, long enough."}})
    instance_id = started.json["id"]
    for _ in range(3):
        review = only_task(api, "erin")
        assert review["title"] == "Review post: Hello"
        api.as_("erin").post(f"/api/tasks/{review['id']}/complete",
                             json={"outcome": "reject", "data": {"comment": "no"}})
        instance = api.get(f"/api/instances/{instance_id}").json
        if instance["status"] == "completed":
            break
        rework = only_task(api, "ann")
        api.as_("ann").post(f"/api/tasks/{rework['id']}/complete", json={"outcome": "resubmit", "data": {
            "author": "ann", "title": "Hello", "body": "A better post, long enough."}})
    assert instance["status"] == "completed" and instance["outcome"] == "rejected"
    assert len(instance["snapshot"]["context"]["editor_review"]) == 3
