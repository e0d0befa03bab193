"""The worker fires what is due, once, on the injected clock: timers, escalations, retries, continuations, incidents."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, update
from sqlmodel import select

from bpm.engine import NodeDefinition, RetryPolicy
from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime import jobs as job_rules
from bpm.runtime.definitions import import_definition
from bpm.runtime.instances import cancel_instance, start_instance
from bpm.runtime.tasks import complete_task
from bpm.scheduler import Worker
from bpm.store.models import JOB_TABLE, HistoryEntry, Job, OutboxMessage, ProcessInstance, Task

from ..conftest import EXPENSE

HOUR, DAY = 3_600_000, 86_400_000


def _timer(key: str, data: dict) -> dict:
    """start -> timer -> end; each test its own key (the engine cache knows a version by its key)."""
    return {"id": key, "name": "Wait", "nodes": [
        {"id": "s", "type": "start"}, {"id": "t", "type": "timer", "data": data}, {"id": "e", "type": "end"}],
        "edges": [{"id": "e1", "source": "s", "target": "t"}, {"id": "e2", "source": "t", "target": "e"}]}


def _instance(rt, instance_id: str) -> ProcessInstance:
    with rt.uow() as uow:
        return uow.session.get(ProcessInstance, instance_id)


def _jobs(rt, instance_id: str) -> list[tuple[str, str]]:
    with rt.uow() as uow:
        return [(j.kind, j.status) for j in uow.session.exec(
            select(Job).where(Job.instance_id == instance_id).order_by(Job.id)).all()]


def _causes(rt, instance_id: str) -> list[tuple[str, str]]:
    with rt.uow() as uow:
        return [(h.cause, h.actor) for h in uow.session.exec(
            select(HistoryEntry).where(HistoryEntry.instance_id == instance_id).order_by(HistoryEntry.id)).all()]


def test_a_timer_fires_once_when_it_falls_due_and_not_before(rt, clock):
    import_definition(rt, SYSTEM_ACTOR, _timer("wait-1", {"duration": "PT1H"}))
    instance, _ = start_instance(rt, SYSTEM_ACTOR, "wait-1", {})
    worker = Worker(rt)
    clock.advance(HOUR - 1)
    assert worker.tick() == {} and _instance(rt, instance.id).status == "paused", "not before it is due"
    clock.advance(1)
    assert worker.tick() == {"fired": 1}
    done = _instance(rt, instance.id)
    assert done.status == "completed"
    fired_at = done.snapshot["context"]["t"][-1]["output"]["firedAt"]
    assert fired_at == dt.datetime.fromtimestamp(clock.now_ms() / 1000, dt.UTC).isoformat().replace("+00:00", "Z")
    assert ("timer_fired", "system:timer") in _causes(rt, instance.id)
    assert _jobs(rt, instance.id) == [("timer", "done")]
    assert worker.tick() == {} and Worker(rt).tick() == {}, "fired once: no worker fires it again"


def test_a_timer_due_in_2019_fires_at_the_first_tick_once(rt, clock):
    import_definition(rt, SYSTEM_ACTOR, _timer("wait-2", {"until": "2019-01-01T09:00:00Z"}))
    instance, _ = start_instance(rt, SYSTEM_ACTOR, "wait-2", {})
    assert Worker(rt).tick() == {"fired": 1}
    assert _instance(rt, instance.id).status == "completed"
    clock.advance(DAY)
    assert Worker(rt).tick() == {}


def test_a_job_whose_instance_moved_on_does_nothing(rt, clock):
    import_definition(rt, SYSTEM_ACTOR, _timer("wait-3", {"duration": "PT1H"}))
    instance, _ = start_instance(rt, SYSTEM_ACTOR, "wait-3", {})
    cancel_instance(rt, SYSTEM_ACTOR, instance.id)
    assert _jobs(rt, instance.id) == [("timer", "cancelled")], "cancelling removes its jobs"
    with rt.uow() as uow:  # a job that slipped through (written by a step that raced the cancel)
        uow.execute(update(JOB_TABLE).where(JOB_TABLE.c.instance_id == instance.id).values(status="pending"))
        uow.commit()
    clock.advance(HOUR)
    revision = _instance(rt, instance.id).revision
    assert Worker(rt).tick() == {"moot": 1}
    assert _instance(rt, instance.id).revision == revision and _jobs(rt, instance.id) == [("timer", "done")]


def test_the_expense_reminds_the_manager_after_a_day_and_escalates_after_three(rt, clock):
    instance, run = start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    review = run.created_tasks[0]
    worker = Worker(rt)
    clock.advance(DAY + 1)
    assert worker.tick() == {"fired": 1}
    with rt.uow() as uow:
        reminder = uow.session.exec(select(OutboxMessage).where(OutboxMessage.instance_id == instance.id,
                                                                OutboxMessage.kind == "reminder")).one()
    assert reminder.recipients == ["bob"] and reminder.channel == "email" and "Reminder" in reminder.subject
    assert ("task_reminded", "system:timer") in _causes(rt, instance.id)
    clock.advance(DAY)
    assert worker.tick() == {"fired": 1}, "due after two days: told it is due now"
    with rt.uow() as uow:
        due = uow.session.exec(select(OutboxMessage.subject).where(OutboxMessage.instance_id == instance.id,
                                                                   OutboxMessage.kind == "reminder")).all()
    assert sorted(due) == ["Due now: Approve expense of 1,500.00 EUR for ann",
                           "Reminder: Approve expense of 1,500.00 EUR for ann"]
    clock.advance(DAY)
    assert worker.tick() == {"fired": 1}
    with rt.uow() as uow:
        tasks = uow.session.exec(select(Task).where(Task.instance_id == instance.id).order_by(Task.created_at)).all()
    assert [(t.node_id, t.status) for t in tasks] == [("manager_review", "cancelled"), ("escalate", "open")]
    after = _instance(rt, instance.id)
    assert after.current_node_id == "escalate"
    assert after.snapshot["context"]["manager_review"][-1]["output"]["outcome"] == "timeout"
    assert ("task_timed_out", "system:timer") in _causes(rt, instance.id)
    assert review.id == tasks[0].id


def test_completing_the_task_first_leaves_its_escalations_nothing_to_do(rt, clock):
    instance, run = start_instance(rt, rt.actor("ann"), "expense-approval", {**EXPENSE, "amount": 50})
    complete_task(rt, rt.actor("bob"), run.created_tasks[0].id, "approve", {})
    clock.advance(4 * DAY)
    assert Worker(rt).tick() == {}
    assert {status for kind, status in _jobs(rt, instance.id) if kind == "escalation"} == {"cancelled"}


def test_engine_retries_count_across_the_worker_s_runs_until_the_node_fails_for_good(rt, clock):
    calls = []

    def down(data, context, payload, globals_):
        calls.append(clock.now_ms())
        raise ConnectionError("the remote system is down")

    rt.node_types["flaky-call"] = NodeDefinition(down, retry_policy=RetryPolicy(3, 60_000, "fixed"))
    try:
        import_definition(rt, SYSTEM_ACTOR, {"id": "flaky", "name": "Flaky", "nodes": [
            {"id": "s", "type": "start"}, {"id": "call", "type": "flaky-call"}, {"id": "end", "type": "end"}],
            "edges": [{"id": "e1", "source": "s", "target": "call"}, {"id": "e2", "source": "call",
                                                                    "target": "end"}]})
        instance, _ = start_instance(rt, SYSTEM_ACTOR, "flaky", {})
        worker = Worker(rt)
        for _ in range(5):
            clock.advance(60_000)
            worker.tick()
        final = _instance(rt, instance.id)
        assert final.status == "failed" and len(calls) == 3, "three attempts in all, then failed"
        assert [c for c, _ in _causes(rt, instance.id)].count("retried") == 2
    finally:
        del rt.node_types["flaky-call"]


def test_a_long_automatic_run_goes_on_in_later_transactions_until_it_ends(rt):
    rt_steps = rt.settings.steps_per_transaction
    loop = {"id": "count", "name": "Count", "nodes": [
        {"id": "s", "type": "start"},
        {"id": "inc", "type": "set", "data": {"values": {"n": "{{ (inc.last.data.n || 0) + 1 }}"}}},
        {"id": "more", "type": "decision", "data": {"rules": [{"when": "{{ inc.last.data.n < 450 }}",
                                                               "handle": "again"}], "default": "done"}},
        {"id": "e", "type": "end"}],
        "edges": [{"id": "a", "source": "s", "target": "inc"}, {"id": "b", "source": "inc", "target": "more"},
                  {"id": "c", "source": "more", "target": "inc", "sourceHandle": "again"},
                  {"id": "d", "source": "more", "target": "e", "sourceHandle": "done"}]}
    import_definition(rt, SYSTEM_ACTOR, loop)
    instance, _ = start_instance(rt, SYSTEM_ACTOR, "count", {})
    assert instance.status == "active" and rt_steps < 900, "the first transaction stopped at its step budget"
    said = Worker(rt).tick()
    assert _instance(rt, instance.id).status == "completed", said
    assert said["fired"] >= 2 and [c for c, _ in _causes(rt, instance.id)].count("continued") == said["fired"]


def test_a_job_that_keeps_failing_becomes_an_incident_an_admin_retries(rt, clock):
    import_definition(rt, SYSTEM_ACTOR, _timer("wait-4", {"duration": "PT1H"}))
    instance, _ = start_instance(rt, SYSTEM_ACTOR, "wait-4", {})
    with rt.uow() as uow:  # an escalation whose action this version does not know
        uow.execute(insert(JOB_TABLE).values(kind="escalation", instance_id=instance.id, node_id="t",
                                             task_id="no-such-task-but-open", due_at=rt.now(), payload={},
                                             status="pending", attempts=0, created_at=rt.now()))
        uow.commit()
    original = job_rules.FIRE["escalation"]
    job_rules.FIRE["escalation"] = lambda rt_, uow, job: (_ for _ in ()).throw(RuntimeError("mail server on fire"))
    try:
        worker = Worker(rt)
        for _ in range(job_rules.MAX_ATTEMPTS):
            worker.tick()
            clock.advance(2 * HOUR)
    finally:
        job_rules.FIRE["escalation"] = original
    with rt.uow() as uow:
        found = job_rules.incidents(uow, rt.actor("admin"))
    assert len(found) == 1 and found[0].attempts == job_rules.MAX_ATTEMPTS
    assert "mail server on fire" in found[0].last_error
    job_rules.retry_incident(rt, rt.actor("admin"), found[0].id)
    with rt.uow() as uow:
        assert job_rules.incidents(uow, rt.actor("admin")) == []
        again = uow.session.get(Job, found[0].id)
    assert (again.status, again.attempts) == ("pending", 0)


def _many_timers(rt, key: str, count: int) -> list[str]:
    import_definition(rt, SYSTEM_ACTOR, _timer(key, {"duration": "PT1M"}))
    return [start_instance(rt, SYSTEM_ACTOR, key, {})[0].id for _ in range(count)]


def _fired_per_instance(rt, ids: list[str]) -> dict[int, int]:
    """How many instances had their timer fired 0, 1, 2... times."""
    from collections import Counter

    with rt.uow() as uow:
        fired = Counter(uow.session.exec(select(HistoryEntry.instance_id).where(
            HistoryEntry.cause == "timer_fired")).all())
    return dict(Counter(fired.get(i, 0) for i in ids))


def test_a_killed_worker_s_jobs_are_taken_over_when_its_lease_runs_out(rt, clock):
    ids = _many_timers(rt, "wait-dead", 30)
    clock.advance(60_000)
    held = job_rules.claim_due(rt, "dead-worker", 20)  # it claimed a batch, then was killed before firing
    assert len(held) == 20
    survivor = Worker(rt, name="survivor")
    assert survivor.tick() == {"fired": 10}, "the other jobs at once; the dead worker's are still leased"
    clock.advance(int(job_rules.LEASE.total_seconds() * 1000) + 1)
    assert survivor.tick() == {"fired": 20}, "taken over once the lease ran out"
    assert _fired_per_instance(rt, ids) == {1: 30}
    assert job_rules.fire(rt, held[0], "dead-worker") == "lost", "a worker that comes back finds them gone"


def test_two_workers_at_once_fire_every_timer_exactly_once(rt, clock, database_url):
    import threading

    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite: one worker (documented); this is the several-workers case")
    ids = _many_timers(rt, "wait-race", 300)
    clock.advance(60_000)
    workers = [Worker(rt, name=f"w{n}", batch=25) for n in range(2)]
    results = []
    threads = [threading.Thread(target=lambda w=w: results.append(w.tick())) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["fired"] for r in results) == 300 and all(r["fired"] > 0 for r in results), results
    assert _fired_per_instance(rt, ids) == {1: 300}, "no duplicate, no miss"


FRIDAY_EVENING_BERLIN = 1_795_806_000_000  # 2026-11-27 19:00 UTC = 20:00 in Berlin


def _utc(*parts: int) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime(*parts, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(dt.UTC)


def test_a_friday_evening_day_in_the_office_calendar_is_due_on_monday(rt, clock):
    import_definition(rt, SYSTEM_ACTOR, {"id": "office-review", "name": "Office review", "nodes": [
        {"id": "s", "type": "start"},
        {"id": "look", "type": "human-task", "data": {
            "title": "Look at it", "assignee": "bob", "dueIn": "P1D", "calendar": "de-office",
            "escalations": [{"after": "PT4H", "action": "remind"}]}},
        {"id": "e", "type": "end"}],
        "edges": [{"id": "a", "source": "s", "target": "look"},
                  {"id": "b", "source": "look", "target": "e", "sourceHandle": "complete"}]})
    clock.set(FRIDAY_EVENING_BERLIN)
    _, run = start_instance(rt, SYSTEM_ACTOR, "office-review", {})
    task = run.created_tasks[0]
    assert task.due_at == _utc(2026, 11, 30, 15, 0), "due at Monday's 'same time' (Friday closes at 15:00)"
    worker = Worker(rt)
    clock.set(int(_utc(2026, 11, 28, 12, 0).timestamp() * 1000))
    assert worker.tick() == {}, "no reminder on Saturday: the weekend does not count"
    clock.set(int(_utc(2026, 11, 30, 13, 59).timestamp() * 1000))
    assert worker.tick() == {}
    clock.set(int(_utc(2026, 11, 30, 14, 0).timestamp() * 1000))
    assert worker.tick() == {"fired": 1}, "four working hours from Monday's opening, lunch excluded"


def test_a_process_calendar_counts_its_timers_in_working_time_and_skips_a_holiday(rt, clock):
    definition = {**_timer("office-wait", {"duration": "P1D"}), "calendar": "de-office"}
    import_definition(rt, SYSTEM_ACTOR, definition)
    clock.set(int(_utc(2026, 12, 30, 16, 0).timestamp() * 1000))  # the 31st is a day off, the 1st a holiday
    instance, _ = start_instance(rt, SYSTEM_ACTOR, "office-wait", {})
    with rt.uow() as uow:
        job = uow.session.exec(select(Job).where(Job.instance_id == instance.id)).one()
    assert job.due_at == _utc(2027, 1, 4, 16, 0)


def test_a_definition_naming_a_calendar_that_does_not_exist_is_refused(rt):
    from bpm.runtime.definition_checks import validate

    body = {**_timer("nowhere-wait", {"duration": "P1D", "calendar": "mars-office"}), "calendar": 7}
    problems = {p.path: p.message for p in validate(rt, body).problems}
    assert "no calendar 'mars-office'; the calendars: de-office" in problems["$.nodes[1].data.calendar"]
    assert "no calendar 7" in problems["$.calendar"]


def test_a_definition_s_webhooks_are_checked_when_it_is_saved(rt):
    from bpm.runtime.definition_checks import validate

    body = {**_timer("hooks-check", {"duration": "P1D"}), "webhooks": [
        {"url": "ftp://example.com/x", "events": ["completed"]}, {"url": "https://ok.example.com/h",
                                                                  "events": ["exploded"]},
        {"url": "https://ok.example.com/h", "secret": "no"}]}
    problems = {p.path: p.message for p in validate(rt, body).problems}
    assert problems["$.webhooks[0].url"].startswith("an http(s) URL")
    assert problems["$.webhooks[1].events"].startswith("some of: started, completed")
    assert "$.webhooks[2]" in problems
    fine = {**_timer("hooks-fine", {"duration": "P1D"}), "webhooks": [{"url": "https://ok.example.com/h"}]}
    assert validate(rt, fine).valid
