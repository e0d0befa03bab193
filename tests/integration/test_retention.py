"""Retention: a finished instance's data goes when its process's historyTimeToLive runs out, a tombstone keeps
the chain verifiable (and anchors signed before still hold), legal holds hold, and nothing else may delete."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import text

from bpm.errors import Forbidden
from bpm.runtime import attachments as files
from bpm.runtime import definitions, retention
from bpm.runtime.audit import verify
from bpm.runtime.audit_export import json_chunks, verify_export
from bpm.runtime.instances import start_instance
from bpm.runtime.tasks import comment_on_task, complete_task
from bpm.scheduler import Worker
from bpm.store.models import Attachment, HistoryEntry, ProcessInstance, Task, TaskComment

from ..conftest import EXPENSE, REPO, database_dump, tamper

DAY = 86_400_000
PDF = b"%PDF-1.7\n%%EOF\n"


def _short_lived(rt, key: str = "short-lived-expense", days: int = 30) -> str:
    body = json.loads((REPO / "processes" / "expense-approval.json").read_text())
    definitions.import_definition(rt, rt.actor("dana"), {**body, "id": key, "historyTimeToLive": days})
    return key


def _finished(rt, key: str) -> str:
    """An expense that was commented on, had a file, and was rejected: finished, with data everywhere."""
    instance, run = start_instance(rt, rt.actor("ann"), key, {**EXPENSE, "description": "secret laptop"})
    task = run.created_tasks[0]
    comment_on_task(rt, rt.actor("bob"), task.id, "about that laptop")
    files.add(rt, rt.actor("bob"), task.id, "receipt.pdf", PDF)
    complete_task(rt, rt.actor("bob"), task.id, "reject", {"comment": "too dear"})
    return instance.id


def _verify(rt, instance_id=None, key=None):
    with rt.uow() as uow:
        return verify(uow, rt.actor("audrey"), instance_id, audit_key=key)


def test_a_finished_instance_is_purged_when_its_time_is_up_and_still_verifies(rt, clock):
    key = _short_lived(rt)
    instance_id = _finished(rt, key)
    kept = _finished(rt, "expense-approval")  # its process says nothing: kept for good
    with rt.uow() as uow:
        before = [e.entry_hash for e in uow.history.chain(instance_id)]
    clock.advance(29 * DAY)
    assert retention.purge(rt, retention.RETENTION_ACTOR, dry_run=True) == []
    clock.advance(2 * DAY)
    (would,) = retention.purge(rt, retention.RETENTION_ACTOR, dry_run=True)
    assert would.instance_id == instance_id and would.days == 30
    assert retention.purge(rt, retention.RETENTION_ACTOR) == [would]
    with rt.uow() as uow:
        (tombstone,) = uow.history.chain(instance_id)
        instance = uow.session.get(ProcessInstance, instance_id)
        tasks = uow.session.exec(_where(Task, instance_id)).all()
        comments = uow.session.exec(_in_tasks(TaskComment, [t.id for t in tasks])).all()
        attachments = uow.session.exec(_where(Attachment, instance_id)).all()
        (purge,) = [e for e in uow.audit_events.chain() if e.cause == "purge"]
    assert tombstone.cause == "purged" and tombstone.position == len(before) + 1
    assert tombstone.prev_hash == before[-1] and tombstone.changes["purged"]["hashes"] == before
    assert "secret" not in json.dumps(tombstone.changes)
    assert instance.snapshot["context"] == {} and instance.purged_at is not None and instance.status == "completed"
    assert all(t.data is None and t.title == "(purged)" for t in tasks) and comments == [] and attachments == []
    assert purge.subject == f"instance:{instance_id}" and "historyTimeToLive 30 days" in purge.details["rule"]
    found = _verify(rt)
    assert found.intact, found.broken
    with rt.uow() as uow:
        assert len(uow.history.chain(kept)) > 1, "the other process's instance is untouched"
    assert retention.purge(rt, retention.RETENTION_ACTOR) == [], "purged once"


def _where(model, instance_id):
    from sqlmodel import select

    return select(model).where(model.instance_id == instance_id)


def _in_tasks(model, task_ids):
    from sqlmodel import select

    return select(model).where(model.task_id.in_(task_ids))


def test_an_anchor_signed_before_the_purge_still_checks_and_an_export_verifies(rt, clock, monkeypatch):
    from dataclasses import replace

    from bpm.runtime.anchors import make_anchor, new_key
    from bpm.runtime.audit import audit_public_key

    monkeypatch.setattr(rt, "settings", replace(rt.settings, audit_signing_key=new_key()))
    key = _short_lived(rt, "anchored-expense")
    instance_id = _finished(rt, key)
    make_anchor(rt)
    clock.advance(31 * DAY)
    retention.purge(rt, retention.RETENTION_ACTOR)
    public = audit_public_key(rt.settings.audit_signing_key)
    assert _verify(rt, key=public).intact
    export = b"".join(json_chunks(rt, rt.actor("audrey"), None, instance_id))
    assert verify_export(io.BytesIO(export)).intact
    # The tombstone cannot lie about what it removed: the anchor signed the real last entry.
    with rt.uow() as uow:
        (tombstone,) = uow.history.chain(instance_id)
    forged = {"purged": {**tombstone.changes["purged"], "hashes": ["e" * 64] * tombstone.changes["purged"]["entries"]}}
    tamper(rt, "UPDATE history_entry SET changes = :c, prev_hash = :p WHERE id = :id",
            c=json.dumps(forged), p="e" * 64, id=tombstone.id)
    assert not _verify(rt, key=public).intact


def test_a_legal_hold_keeps_an_instance_until_it_is_lifted(rt, clock):
    key = _short_lived(rt, "held-expense")
    instance_id = _finished(rt, key)
    clock.advance(31 * DAY)
    retention.set_hold(rt, rt.actor("audrey"), instance_id, "litigation 2026-17")
    assert retention.purge(rt, retention.RETENTION_ACTOR) == []
    with pytest.raises(Exception, match="already"):
        retention.set_hold(rt, rt.actor("audrey"), instance_id, "again")
    retention.lift_hold(rt, rt.actor("audrey"), instance_id, "case closed")
    assert [d.instance_id for d in retention.purge(rt, retention.RETENTION_ACTOR)] == [instance_id]
    with rt.uow() as uow:
        about = uow.audit_events.about(f"instance:{instance_id}")
    assert [(e.cause, e.actor, e.details.get("reason")) for e in about] == [
        ("legal_hold_set", "audrey", "litigation 2026-17"), ("legal_hold_lifted", "audrey", "case closed"),
        ("purge", "system:retention", None)]
    assert _verify(rt).intact


def test_only_auditors_hold_and_only_admins_purge_and_a_refusal_changes_nothing(rt, clock, api):
    key = _short_lived(rt, "guarded-expense")
    instance_id = _finished(rt, key)
    clock.advance(31 * DAY)
    before = database_dump(rt)
    for who in ("ann", "bob", "dana"):
        with pytest.raises(Forbidden):
            retention.set_hold(rt, rt.actor(who), instance_id, "I would like to keep it")
        assert api.as_(who).put(f"/api/audit/holds/{instance_id}", json={"reason": "keep it"}).status_code == 403
    with pytest.raises(Forbidden):
        retention.purge(rt, rt.actor("audrey"))
    assert database_dump(rt) == before
    bad = api.as_("audrey").put(f"/api/audit/holds/{instance_id}", json={"reason": ""})
    assert bad.status_code == 422 and "reason" in bad.json["errors"]
    assert database_dump(rt) == before
    made = api.as_("audrey").put(f"/api/audit/holds/{instance_id}", json={"reason": "audit of Q4"})
    assert made.status_code == 201 and made.json["setBy"] == "audrey"
    assert [h["instanceId"] for h in api.as_("audrey").get("/api/audit/holds").json] == [instance_id]
    gone = api.as_("audrey").delete(f"/api/audit/holds/{instance_id}", json={"reason": "audit done"})
    assert gone.status_code == 204


def test_entries_removed_past_the_service_with_a_made_up_tombstone_are_caught(rt, clock):
    """A tombstone the admin chain knows nothing of: someone deleted entries and dressed it up."""
    instance_id = _finished(rt, "expense-approval")
    with rt.uow() as uow:
        entries = uow.history.chain(instance_id)
    last = entries[-1]
    tamper(rt, "DELETE FROM history_entry WHERE instance_id = :i AND position < :p", i=instance_id, p=last.position)
    from bpm.runtime.audit import recomputed

    fake = {"purged": {"entries": last.position - 1, "hashes": [e.entry_hash for e in entries[:-1]]}}
    tamper(rt, "UPDATE history_entry SET cause = 'purged', changes = :c WHERE id = :id", c=json.dumps(fake),
            id=last.id)
    with rt.uow() as uow:
        (entry,) = uow.history.chain(instance_id)
    tamper(rt, "UPDATE history_entry SET entry_hash = :h WHERE id = :id", h=recomputed(entry), id=entry.id)
    tamper(rt, "UPDATE audit_chain_head SET entry_hash = :h WHERE chain = :i", h=recomputed(entry), i=instance_id)
    (broken,) = _verify(rt).broken
    assert broken.chain == instance_id and "no purge in the admin chain" in broken.problem


def test_postgresql_lets_only_the_purge_of_that_instance_delete_history(rt, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the trigger is PostgreSQL's")
    one, other = _finished(rt, "expense-approval"), _finished(rt, "expense-approval")
    with pytest.raises(Exception, match="append-only"), rt.db.begin() as connection:
        connection.execute(text("DELETE FROM history_entry WHERE instance_id = :i"), {"i": one})
    with pytest.raises(Exception, match="append-only"), rt.db.begin() as connection:
        connection.execute(text("SELECT set_config('bpm.purging', :i, true)"), {"i": other})
        connection.execute(text("DELETE FROM history_entry WHERE instance_id = :i"), {"i": one})
    with pytest.raises(Exception, match="append-only"), rt.db.begin() as connection:
        connection.execute(text("SELECT set_config('bpm.purging', :i, true)"), {"i": one})
        connection.execute(text("UPDATE history_entry SET actor = 'x' WHERE instance_id = :i"), {"i": one})
    with rt.uow() as uow:
        assert len(uow.history.chain(one)) > 1


def test_history_time_to_live_must_be_whole_days(api):
    body = json.loads((REPO / "processes" / "expense-approval.json").read_text())
    for bad in (-1, 1.5, "30", True):
        response = api.as_("dana").post("/api/definitions", json={**body, "id": "ttl-check", "historyTimeToLive": bad})
        assert response.status_code == 422, response.json
        assert any("historyTimeToLive" in str(p) for p in response.json.get("problems", response.json.get("errors")))


def test_the_worker_purges_and_the_cli_says_what_would_go(rt, clock, database_url, monkeypatch):
    from click.testing import CliRunner

    from bpm.cli import main

    key = _short_lived(rt, "cli-expense")
    first, second = _finished(rt, key), _finished(rt, key)
    clock.advance(31 * DAY)
    monkeypatch.setenv("BPM_DATABASE_URL", database_url)
    dry = CliRunner().invoke(main, ["audit", "purge", "--dry-run"])
    assert dry.exit_code == 0 and f"would purge  {first}" in dry.output and "2 instances would be purged" in dry.output
    with rt.uow() as uow:
        assert len(uow.history.chain(first)) > 1, "a dry run removes nothing"
    one = CliRunner().invoke(main, ["audit", "purge", "--limit", "1"])
    assert one.exit_code == 0 and "1 instance purged" in one.output, one.output
    assert Worker(rt).deliver()["purged"] == 1
    with rt.uow() as uow:
        assert [len(uow.history.chain(i)) for i in (first, second)] == [1, 1]
        assert uow.session.exec(_where(HistoryEntry, first)).one().cause == "purged"


def test_a_purged_instance_still_opens_everywhere_it_is_listed(rt, clock, api, client):
    key = _short_lived(rt, "listed-expense")
    instance_id = _finished(rt, key)
    with rt.uow() as uow:
        (task,) = uow.session.exec(_where(Task, instance_id)).all()
    clock.advance(31 * DAY)
    retention.purge(rt, retention.RETENTION_ACTOR)
    assert api.as_("ann").get(f"/api/instances/{instance_id}").status_code == 200
    assert [e["cause"] for e in api.as_("ann").get(f"/api/instances/{instance_id}/history").json] == ["purged"]
    assert api.as_("bob").get(f"/api/tasks/{task.id}").status_code == 200
    pages = (("ann", "/requests"), ("bob", f"/tasks/{task.id}"), ("audrey", f"/audit/instances/{instance_id}"))
    for user, url in pages:
        page = client.get(url, headers={"X-BPM-User": user, "Accept": "text/html"})
        assert page.status_code == 200, (url, page.status_code)
        assert "secret laptop" not in page.get_data(as_text=True)


def test_a_hold_set_after_the_purge_looked_keeps_the_instance(rt, clock):
    """The purge re-reads under the instance's lock: what it listed a moment ago may be held by now."""
    key = _short_lived(rt, "raced-expense")
    instance_id = _finished(rt, key)
    clock.advance(31 * DAY)
    with rt.uow() as uow:
        (listed,) = retention.due(rt, uow)
    retention.set_hold(rt, rt.actor("audrey"), instance_id, "a letter from the tax office")
    assert retention.purge_instance(rt, retention.RETENTION_ACTOR, listed) is False
    with rt.uow() as uow:
        assert len(uow.history.chain(instance_id)) > 1
        assert uow.session.get(ProcessInstance, instance_id).purged_at is None
