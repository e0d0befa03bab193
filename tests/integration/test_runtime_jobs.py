"""Retries and history across many revisions, through the runtime on both databases."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bpm.engine import NodeDefinition, RetryPolicy, Snapshot
from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition
from bpm.runtime.history import rebuild_snapshot
from bpm.runtime.instances import retry_instance, start_instance
from bpm.runtime.tasks import complete_task
from bpm.store.models import HistoryEntry, Job, ProcessInstance

FLAKY = {"id": "flaky", "name": "Flaky call", "nodes": [
    {"id": "s", "type": "start"}, {"id": "call", "type": "flaky-call"}, {"id": "end", "type": "end"}],
    "edges": [{"id": "e1", "source": "s", "target": "call"}, {"id": "e2", "source": "call", "target": "end"}]}


def _always_down(data, context, payload, globals_):
    raise ConnectionError("the remote system is down")


def test_a_node_with_a_retry_policy_waits_in_error_with_a_durable_retry_job(rt, clock):
    rt.node_types["flaky-call"] = NodeDefinition(_always_down, retry_policy=RetryPolicy(3, 60_000, "exponential"))
    try:
        import_definition(rt, SYSTEM_ACTOR, FLAKY)
        instance, _ = start_instance(rt, SYSTEM_ACTOR, "flaky", {})
        assert instance.status == "error" and "remote system is down" in instance.error
        with rt.uow() as uow:
            job = uow.session.exec(select(Job).where(Job.instance_id == instance.id)).one()
        assert (job.kind, job.node_id, job.status, job.payload) == ("retry", "call", "pending", {"attempts": 1})
        assert job.due_at.timestamp() * 1000 == clock.now_ms() + 60_000

        again, _ = retry_instance(rt, SYSTEM_ACTOR, instance.id)
        assert again.status == "error" and again.revision == 2
        with rt.uow() as uow:
            jobs = uow.session.exec(select(Job.status).where(Job.instance_id == instance.id).order_by(Job.id)).all()
        assert jobs == ["cancelled", "pending"], "the manual retry replaces the scheduled one"
    finally:
        del rt.node_types["flaky-call"]


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(["approve", "reject"]), min_size=1, max_size=4))
def test_every_revision_of_a_looping_process_rebuilds_from_its_history(rt, decisions):
    editor, author = rt.actor("erin"), rt.actor("ann")
    instance, run = start_instance(rt, author, "content-approval",
                                   {"author": "ann", "title": "Hello", "body": "A first post, long enough."})
    stored = [instance.snapshot]
    task = run.created_tasks[0]
    for decision in decisions:
        data = {"comment": "no"} if decision == "reject" else {}
        _, instance, run = complete_task(rt, editor, task.id, decision, data)
        stored.append(instance.snapshot)
        if instance.status != "paused":
            break
        _, instance, run = complete_task(rt, author, run.created_tasks[0].id, "resubmit",
                                         {"author": "ann", "title": "Hello", "body": "A better post, long enough."})
        stored.append(instance.snapshot)
        task = run.created_tasks[0]
    with rt.uow() as uow:
        deltas = uow.session.exec(select(HistoryEntry.delta).where(HistoryEntry.instance_id == instance.id,
                                                                    HistoryEntry.task_id.is_(None))
                                  .order_by(HistoryEntry.revision)).all()  # the snapshot revisions
        final = uow.session.get(ProcessInstance, instance.id)
    assert len(deltas) == len(stored) == final.revision
    for revision, snapshot in enumerate(stored, start=1):
        assert rebuild_snapshot(deltas[:revision]) == Snapshot.from_dict(snapshot)
