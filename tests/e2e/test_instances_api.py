"""Instances over HTTP: listing, cancel, retry, continuation across transactions, history."""

from __future__ import annotations

from sqlmodel import select

from bpm.engine import ManualClock
from bpm.runtime import SYSTEM_ACTOR, Runtime
from bpm.runtime.definitions import import_definition
from bpm.runtime.instances import start_instance
from bpm.store.models import Job, ProcessInstance

from ..conftest import EXPENSE

BROKEN = {"id": "broken", "name": "Broken", "nodes": [
    {"id": "s", "type": "start"},
    {"id": "calc", "type": "set", "data": {"values": {"ratio": "{{ s.last.data.rates[s.last.data.d] }}"}}},
    {"id": "end", "type": "end", "data": {"outcome": "done"}}],
    "edges": [{"id": "e1", "source": "s", "target": "calc"}, {"id": "e2", "source": "calc", "target": "end"}]}


def _publish(rt, body):
    import_definition(rt, SYSTEM_ACTOR, body)


def test_cancelling_closes_the_open_tasks_and_jobs(api, rt):
    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    assert api.as_("bob").post(f"/api/instances/{started['id']}/cancel", json={}).status_code == 403
    cancelled = api.post(f"/api/instances/{started['id']}/cancel", json={"reason": "duplicate"},
                         headers={"If-Match": '"1"'})
    assert cancelled.status_code == 200
    assert (cancelled.json["status"], cancelled.json["error"], cancelled.json["openTasks"]) == (
        "cancelled", "duplicate", [])
    task = api.as_("bob").get(f"/api/tasks/{started['openTasks'][0]['id']}").json
    assert task["status"] == "cancelled"
    with rt.uow() as uow:
        assert set(uow.session.exec(select(Job.status)).all()) == {"cancelled"}
    assert api.post(f"/api/instances/{started['id']}/cancel", json={}).status_code == 409
    history = api.get(f"/api/instances/{started['id']}/history").json
    assert [(h["cause"], h["status"]) for h in history] == [("started", "paused"), ("task_created", "paused"),
                                                           ("cancelled", "cancelled")]


def test_a_failing_node_fails_the_instance_and_retry_runs_it_again(api, rt):
    _publish(rt, BROKEN)
    failed = api.post("/api/instances", json={"definition": "broken", "payload": {"n": 1, "d": 0}}).json
    assert failed["status"] == "failed" and failed["currentNodeId"] == "calc"
    assert "cannot read [0] of undefined" in failed["error"] and "node 'calc'" in failed["error"]
    assert api.post(f"/api/instances/{failed['id']}/retry").status_code == 403
    retried = api.as_("admin").post(f"/api/instances/{failed['id']}/retry")
    assert retried.status_code == 200 and retried.json["status"] == "failed" and retried.json["revision"] == 2
    runs = retried.json["snapshot"]["context"]["calc"]
    assert [r["attempt"] for r in runs] == [1, 1], "a retry starts counting attempts afresh"
    assert [h["cause"] for h in api.get(f"/api/instances/{failed['id']}/history").json] == ["started", "retried"]
    ok = api.post("/api/instances", json={"definition": "broken", "payload": {"n": 1, "d": 4, "rates": [1]}}).json
    assert api.as_("admin").post(f"/api/instances/{ok['id']}/retry").status_code == 409


def test_a_long_run_continues_in_a_later_transaction(rt, database_url):
    chain = {"id": "long", "name": "Long", "nodes": [{"id": "s", "type": "start"}] + [
        {"id": f"n{i}", "type": "set", "data": {"values": {"i": i}}} for i in range(5)],
        "edges": [{"id": "e0", "source": "s", "target": "n0"}] + [
            {"id": f"e{i + 1}", "source": f"n{i}", "target": f"n{i + 1}"} for i in range(4)]}
    _publish(rt, chain)
    small = Runtime.build(rt.settings.with_overrides(steps_per_transaction=2), ManualClock(1_767_225_600_000))
    try:
        instance, run = start_instance(small, SYSTEM_ACTOR, "long", {})
        assert (instance.status, instance.current_node_id, run.steps) == ("active", "n1", 2)
        with small.uow() as uow:
            job = uow.session.exec(select(Job).where(Job.instance_id == instance.id)).one()
            assert (job.kind, job.node_id, job.status) == ("continuation", "n1", "pending")
            assert uow.session.get(ProcessInstance, instance.id).snapshot["version"] == 2
    finally:
        small.close()


def test_instances_are_listed_newest_first_with_filters(api, clock):
    for amount in (10, 20):
        api.post("/api/instances", json={"definition": "expense-approval", "payload": {**EXPENSE, "amount": amount},
                                         "businessKey": f"EXP-{amount}"})
        clock.advance(1000)
    api.as_("carol").post("/api/instances", json={"definition": "vacation-request", "payload": {
        "employee": "carol", "manager": "bob", "firstDay": "2026-07-01", "lastDay": "2026-07-02"}})
    auditor = api.as_("audrey")
    everything = auditor.get("/api/instances").json
    assert [i["definitionKey"] for i in everything] == ["vacation-request", "expense-approval", "expense-approval"]
    assert [i["businessKey"] for i in auditor.get("/api/instances?definitionKey=expense-approval").json] == [
        "EXP-20", "EXP-10"]
    assert [i["startedBy"] for i in auditor.get("/api/instances?startedBy=carol").json] == ["carol"]
    assert len(auditor.get("/api/instances?businessKey=EXP-10&status=paused").json) == 1
    assert auditor.get("/api/instances?status=sleeping").status_code == 422
    assert auditor.get("/api/instances/does-not-exist").status_code == 404
    assert [i["businessKey"] for i in api.get("/api/instances").json] == ["EXP-20", "EXP-10"], "ann: her own"
    assert api.get("/api/instances?startedBy=carol").json == []


def test_the_history_of_an_unknown_instance_is_404(api):
    response = api.get("/api/instances/no-such-instance/history")
    assert response.status_code == 404 and "no-such-instance" in response.json["message"]
