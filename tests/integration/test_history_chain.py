"""The history's hash chain: intact after every kind of event; any direct edit, deletion, insertion or
reordering found and named; never forked by concurrent writers; refused by PostgreSQL to change at all."""

from __future__ import annotations

import threading
from itertools import pairwise

import pytest
from sqlalchemy import text

from bpm.runtime import attachments as files
from bpm.runtime.audit import verify
from bpm.runtime.instances import cancel_instance, start_instance
from bpm.runtime.tasks import claim_task, comment_on_task, complete_task, delegate_task, unclaim_task
from bpm.scheduler import Worker
from bpm.store.models import HistoryEntry

from ..conftest import EXPENSE, tamper

PDF = b"%PDF-1.7\n%%EOF\n"


def _busy_instance(rt, clock) -> str:
    """An expense through claims, delegation, comments, files, a reminder, votes of the finance group..."""
    instance, run = start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    review = run.created_tasks[0]
    comment_on_task(rt, rt.actor("bob"), review.id, "looking")
    files.add(rt, rt.actor("bob"), review.id, "receipt.pdf", PDF)
    clock.advance(86_400_001)
    Worker(rt).tick()  # the reminder
    _, _, run = complete_task(rt, rt.actor("bob"), review.id, "approve", {})
    finance = run.created_tasks[0]
    claim_task(rt, rt.actor("carol"), finance.id)
    unclaim_task(rt, rt.actor("carol"), finance.id)
    delegate_task(rt, rt.actor("carol"), finance.id, "frank")
    complete_task(rt, rt.actor("frank"), finance.id, "approve", {})
    return instance.id


def _check(rt, instance_id: str | None = None):
    with rt.uow() as uow:
        return verify(uow, rt.actor("audrey"), instance_id)


def _entries(rt, instance_id: str) -> list[HistoryEntry]:
    with rt.uow() as uow:
        return uow.history.chain(instance_id)


def _open_task(rt, instance_id: str) -> str:
    with rt.uow() as uow:
        return uow.tasks.open_of_instance(instance_id)[0].id


def test_every_kind_of_event_lands_in_one_unbroken_chain(rt, clock):
    instance_id = _busy_instance(rt, clock)
    other, _ = start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    cancel_instance(rt, rt.actor("ann"), other.id)
    entries = _entries(rt, instance_id)
    causes = {e.cause for e in entries}
    assert {"started", "task_created", "task_commented", "attachment_added", "task_reminded", "task_completed",
            "task_claimed", "task_unclaimed", "task_delegated"} <= causes
    assert [e.position for e in entries] == list(range(1, len(entries) + 1))
    assert all(later.prev_hash == earlier.entry_hash for earlier, later in pairwise(entries))
    found = _check(rt)
    with rt.uow() as uow:
        events = uow.audit_events.chain()
    assert {e.cause for e in events} == {"definition_published"}, "the demo published the examples"
    assert found.intact and found.chains == 3, "two instances and the admin chain"
    assert found.entries == len(entries) + len(_entries(rt, other.id)) + len(events)


@pytest.mark.parametrize(("change", "position", "said"), [
    ("UPDATE history_entry SET actor = 'mallory' WHERE instance_id = :i AND position = 3", 3, "edited"),
    ("UPDATE history_entry SET changes = '{\"comment\": [null, \"all fine\"]}' "
     "WHERE instance_id = :i AND position = 2", 2, "edited"),
    ("DELETE FROM history_entry WHERE instance_id = :i AND position = 4", 4, "position 4 is missing"),
    ("DELETE FROM history_entry WHERE instance_id = :i AND position = (SELECT max(position) FROM history_entry "
     "WHERE instance_id = :i)", None, "entries at its end were removed"),
    ("UPDATE history_entry SET position = -position WHERE instance_id = :i AND position IN (2, 3); "
     "UPDATE history_entry SET position = 5 - (-position) WHERE instance_id = :i AND position < 0", 2,
     "does not follow the entry before it"),
    ("INSERT INTO history_entry (instance_id, instance_started_at, revision, at, actor, cause, status, delta, "
     "task_id) SELECT id, started_at, 1, '2026-01-01 00:00:00', 'mallory', 'task_completed', 'completed', '{}', "
     "'forged' FROM process_instance WHERE id = :i", None,
     "not in the chain"),
])
def test_a_direct_change_to_the_history_is_found_and_named(rt, clock, change, position, said):
    instance_id = _busy_instance(rt, clock)
    last = len(_entries(rt, instance_id))
    for statement in change.split("; "):
        tamper(rt, statement, i=instance_id)
    found = _check(rt)
    assert not found.intact
    (broken,) = found.broken
    assert broken.chain == instance_id and said in broken.problem, broken
    assert broken.position == (last if "end were removed" in said else position), "named at the right place"
    assert _check(rt, instance_id).broken == found.broken, "the same when asked for that instance only"


def test_postgresql_refuses_to_change_or_remove_history(rt, clock, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the triggers are PostgreSQL's (SQLite has no roles to keep an owner out anyway)")
    instance_id = _busy_instance(rt, clock)
    for statement in ("UPDATE history_entry SET actor = 'mallory' WHERE instance_id = :i",
                      "DELETE FROM history_entry WHERE instance_id = :i", "TRUNCATE history_entry CASCADE"):
        with pytest.raises(Exception, match="history_entry is append-only"), rt.db.begin() as connection:
            connection.execute(text(statement), {"i": instance_id})
    assert _check(rt).intact


def test_two_writers_at_once_never_fork_a_chain(rt):
    instance, run = start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    task_id = run.created_tasks[0].id
    errors = []

    def write(who: str) -> None:
        try:
            for n in range(10):
                comment_on_task(rt, rt.actor(who), task_id, f"{who} {n}")
        except Exception as exc:  # a failure here would be the test's finding
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(who,)) for who in ("ann", "bob", "ann", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    entries = _entries(rt, instance.id)
    assert [e.position for e in entries] == list(range(1, 43)), "the start, its task, 40 comments, one after another"
    assert _check(rt, instance.id).intact


def test_bpm_audit_verify_says_intact_or_names_the_break_and_exits_1(rt, clock, database_url, monkeypatch):
    from click.testing import CliRunner

    from bpm.cli import main

    instance_id = _busy_instance(rt, clock)
    monkeypatch.setenv("BPM_DATABASE_URL", database_url)
    intact = CliRunner().invoke(main, ["audit", "verify"])
    assert intact.exit_code == 0 and "intact: 2 chains" in intact.output, intact.output
    tamper(rt, "UPDATE history_entry SET actor = 'mallory' WHERE instance_id = :i AND position = 2", i=instance_id)
    broken = CliRunner().invoke(main, ["audit", "verify", "--instance", instance_id])
    assert broken.exit_code == 1
    assert f"BROKEN  chain {instance_id}, position 2: what it records no longer matches its hash" in broken.output
    assert "NOT intact: 1 chains" in broken.output


def test_the_verify_api_is_for_auditors(client, rt, clock):
    instance_id = _busy_instance(rt, clock)
    ok = client.get("/api/audit/verify", headers={"X-BPM-User": "audrey"})
    assert ok.status_code == 200 and ok.json["intact"] is True and ok.json["chains"] == 2
    assert client.get("/api/audit/verify", headers={"X-BPM-User": "ann"}).status_code == 403
    tamper(rt, "DELETE FROM history_entry WHERE instance_id = :i AND position = 2", i=instance_id)
    found = client.get(f"/api/audit/verify?instanceId={instance_id}", headers={"X-BPM-User": "admin"}).json
    assert found["intact"] is False and found["broken"][0]["position"] == 2


def _rewrite_consistently(rt, instance_id: str, position: int) -> None:
    """What someone with write access to the database could do: edit an entry and re-chain all after it."""
    from bpm.runtime.audit import recomputed

    tamper(rt, "UPDATE history_entry SET actor = 'mallory' WHERE instance_id = :i AND position = :p",
            i=instance_id, p=position)
    entries = _entries(rt, instance_id)
    prev = entries[position - 2].entry_hash if position > 1 else "0" * 64
    for entry in entries[position - 1:]:
        entry.prev_hash = prev
        digest = recomputed(entry)
        tamper(rt, "UPDATE history_entry SET prev_hash = :prev, entry_hash = :h WHERE id = :id",
                prev=prev, h=digest, id=entry.id)
        prev = digest
    tamper(rt, "UPDATE audit_chain_head SET entry_hash = :h WHERE chain = :i", h=prev, i=instance_id)


@pytest.fixture
def signing(rt, monkeypatch, tmp_path):
    """The runtime with an audit signing key and an anchor file."""
    from dataclasses import replace

    from bpm.runtime.anchors import new_key

    settings = replace(rt.settings, audit_signing_key=new_key(), audit_anchor_file=str(tmp_path / "anchors.jsonl"))
    monkeypatch.setattr(rt, "settings", settings)
    return rt


def test_a_chain_rewritten_consistently_passes_alone_but_not_its_signed_anchor(signing, clock):
    import json

    from bpm.runtime.anchors import make_anchor
    from bpm.runtime.audit import audit_public_key

    rt = signing
    instance_id = _busy_instance(rt, clock)
    anchor = make_anchor(rt)
    assert anchor is not None
    signed = {chain: position for chain, position, _ in anchor.heads}
    assert set(signed) == {instance_id, "admin"}
    from pathlib import Path

    line = json.loads(Path(rt.settings.audit_anchor_file).read_text().splitlines()[-1])
    assert line["root"] == anchor.root and line["signature"] == anchor.signature, "the anchor left the database"
    _rewrite_consistently(rt, instance_id, 3)
    from bpm.runtime.audit import check_chain

    with rt.uow() as uow:
        assert check_chain(instance_id, uow.history.chain(instance_id), uow.history.head(instance_id)) is None, \
            "the chain alone cannot tell"
    key = audit_public_key(rt.settings.audit_signing_key)
    with rt.uow() as uow:
        found = verify(uow, rt.actor("audrey"), audit_key=key)
    (broken,) = found.broken
    assert broken.chain == instance_id and broken.position == signed[instance_id]
    assert "signed a different entry here: the chain was rewritten" in broken.problem
    with rt.uow() as uow:
        (alone,) = verify(uow, rt.actor("audrey"), instance_id, audit_key=key).broken
    assert alone == broken, "one instance's check finds it too, from the newest anchor that signed it"
    tamper(rt, "UPDATE audit_anchor SET heads = :h WHERE id = :id",
            h=json.dumps([[instance_id, signed[instance_id], "f" * 64]]), id=anchor.id)
    with rt.uow() as uow:
        problems = [b.problem for b in verify(uow, rt.actor("audrey"), audit_key=key).broken]
    assert any("the anchor itself was altered" in p for p in problems), problems


def test_an_anchor_signed_by_another_key_is_refused(signing, clock):
    from bpm.runtime.anchors import load_key, make_anchor, new_key

    rt = signing
    _busy_instance(rt, clock)
    make_anchor(rt)
    with rt.uow() as uow:
        found = verify(uow, rt.actor("audrey"), audit_key=load_key(new_key()).public_key())
    assert [b.problem for b in found.broken] == ["its signature is not the audit key's: forged or altered"]
    with rt.uow() as uow:
        assert verify(uow, rt.actor("audrey"), audit_key=load_key(rt.settings.audit_signing_key).public_key()).intact


def test_the_worker_anchors_every_so_often_and_the_cli_makes_keys_and_anchors(signing, clock, database_url,
                                                                             monkeypatch):
    from click.testing import CliRunner

    from bpm.cli import main

    rt = signing
    _busy_instance(rt, clock)
    worker = Worker(rt)
    assert worker.deliver()["anchors"] == 1
    assert "anchors" not in worker.deliver(), "not again before BPM_AUDIT_ANCHOR_MINUTES"
    clock.advance(rt.settings.audit_anchor_minutes * 60_000)
    assert worker.deliver()["anchors"] == 0, "nothing moved since: nothing to sign"
    instance, _ = start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    clock.advance(rt.settings.audit_anchor_minutes * 60_000)
    assert worker.deliver()["anchors"] == 1
    key = CliRunner().invoke(main, ["audit", "keygen"])
    assert key.exit_code == 0 and key.output.startswith("-----BEGIN PRIVATE KEY-----")
    monkeypatch.setenv("BPM_DATABASE_URL", database_url)
    monkeypatch.setenv("BPM_AUDIT_SIGNING_KEY", rt.settings.audit_signing_key)
    idle = CliRunner().invoke(main, ["audit", "anchor"])
    assert idle.exit_code == 0 and "nothing to anchor" in idle.output, idle.output
    comment_on_task(rt, rt.actor("ann"), _open_task(rt, instance.id), "still waiting")
    made = CliRunner().invoke(main, ["audit", "anchor"])
    assert made.exit_code == 0 and "1 chains moved, root " in made.output, made.output
    checked = CliRunner().invoke(main, ["audit", "verify"])
    assert checked.exit_code == 0, checked.output
    monkeypatch.delenv("BPM_AUDIT_SIGNING_KEY")
    assert CliRunner().invoke(main, ["audit", "anchor"]).exit_code == 1


def test_definitions_and_admin_actions_form_their_own_chain(rt, clock):
    from bpm.runtime import definitions
    from bpm.runtime.audit import check_chain

    body = {**_example("vacation-request"), "id": "chained-vacation"}
    draft = definitions.save_draft(rt, rt.actor("dana"), body)
    definitions.publish(rt, rt.actor("dana"), draft.key, draft.version)
    second = definitions.save_draft(rt, rt.actor("dana"), {**body, "name": "Chained vacation, v2"})
    definitions.publish(rt, rt.actor("dana"), second.key, second.version)
    definitions.retire(rt, rt.actor("dana"), draft.key, draft.version)
    with rt.uow() as uow:
        events = uow.audit_events.chain()
        head = uow.history.head("admin")
    mine = [e for e in events if e.subject.startswith("definition:chained-vacation:")]
    assert [(e.cause, e.subject, e.actor) for e in mine] == [
        ("definition_published", "definition:chained-vacation:1", "dana"),
        ("definition_published", "definition:chained-vacation:2", "dana"),
        ("definition_retired", "definition:chained-vacation:1", "dana")]
    assert mine[0].details["checksum"] == draft.checksum and mine[-1].details["newInstancesStart"] == 2
    assert [e.position for e in events] == list(range(1, len(events) + 1))
    assert check_chain("admin", events, head) is None and _check(rt).intact
    tamper(rt, "UPDATE audit_event SET actor = 'mallory' WHERE position = :p", p=mine[1].position)
    (broken,) = _check(rt).broken
    assert broken.chain == "admin" and broken.position == mine[1].position and "edited" in broken.problem


def test_postgresql_refuses_to_change_admin_events(rt, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the triggers are PostgreSQL's")
    for sql in ("UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event", "TRUNCATE audit_event CASCADE"):
        with pytest.raises(Exception, match="append-only"), rt.db.begin() as connection:
            connection.execute(text(sql))


def test_an_anchor_removed_shows_at_the_next_and_in_the_anchor_file(signing, clock):
    from bpm.runtime.anchors import make_anchor
    from bpm.runtime.audit import audit_public_key

    rt = signing
    instance_id = _busy_instance(rt, clock)
    first = make_anchor(rt)
    comment_on_task(rt, rt.actor("ann"), _open_task(rt, instance_id), "any news?") if _open_tasks(rt, instance_id) \
        else start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    second = make_anchor(rt)
    assert first is not None and second is not None and second.previous == first.root
    key = audit_public_key(rt.settings.audit_signing_key)
    with rt.uow() as uow:
        assert verify(uow, rt.actor("audrey"), audit_key=key, anchor_file=rt.settings.audit_anchor_file).intact
    tamper(rt, "DELETE FROM audit_anchor WHERE id = :id", id=first.id)
    with rt.uow() as uow:
        problems = [(b.chain, b.problem) for b in verify(uow, rt.actor("audrey"), audit_key=key,
                                                         anchor_file=rt.settings.audit_anchor_file).broken]
    assert (f"anchor {second.id} of {second.at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}",
            "it does not follow the anchor before it: anchors were removed") in problems
    assert any(chain.startswith(f"anchor {first.id} (anchor file line 1)") for chain, _ in problems), problems


def test_verify_since_a_day_checks_the_chains_active_since(rt, clock):
    import datetime as dt

    old, _ = start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    clock.advance(3 * 86_400_000)
    start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    since = rt.now() - dt.timedelta(days=1)
    tamper(rt, "UPDATE history_entry SET actor = 'mallory' WHERE instance_id = :i", i=old.id)
    with rt.uow() as uow:
        recent = verify(uow, rt.actor("audrey"), since=since)
        everything = verify(uow, rt.actor("audrey"))
    assert recent.intact and recent.chains == 2, "the new instance and the admin chain"
    assert [b.chain for b in everything.broken] == [old.id]


def _open_tasks(rt, instance_id: str) -> list:
    with rt.uow() as uow:
        return uow.tasks.open_of_instance(instance_id)


def _example(name: str) -> dict:
    import json

    from ..conftest import REPO

    return json.loads((REPO / "processes" / f"{name}.json").read_text())


@pytest.fixture
def anchor_receiver():
    from ..http_receiver import receiving

    with receiving("/anchors") as listening:
        yield listening


def test_anchors_are_posted_to_the_anchor_webhook_in_order_signed_and_retried(signing, clock, monkeypatch,
                                                                              anchor_receiver):
    import json
    from dataclasses import replace

    from bpm.notify.webhook import verify as verify_signature

    rt = signing
    url, got = anchor_receiver
    monkeypatch.setattr(rt, "settings", replace(rt.settings, audit_anchor_webhook=url, webhook_secret="s3cret",
                                                        webhook_allow="127.0.0.1"))
    got.answers = [503]
    _busy_instance(rt, clock)
    worker = Worker(rt)
    said = worker.deliver()
    assert said["anchors"] == 1 and said["anchors shipped"] == 0, "the receiver was down"
    start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    clock.advance(rt.settings.audit_anchor_minutes * 60_000)
    said = worker.deliver()
    assert said["anchors"] == 1 and said["anchors shipped"] == 2, "both, the older first"
    first, second = (json.loads(body) for _, body in got.received[1:])
    assert first["event"] == "audit.anchor" and second["previous"] == first["root"]
    headers, body = got.received[1]
    assert verify_signature("s3cret", headers["X-BPM-Signature"], body, int(rt.now().timestamp()))
    assert headers["Idempotency-Key"] == f"anchor-{first['id']}"
    assert worker.deliver()["anchors shipped"] == 0, "shipped once"


def test_account_changes_are_in_the_admin_chain_without_secrets(rt):
    from bpm.runtime import accounts

    admin = rt.actor("admin")
    accounts.create_group(rt, admin, "auditors-eu", "EU auditors")
    accounts.create_user(rt, admin, "zoe", "Zoe", "zoe@example.com", "a long passphrase 1", ["auditor"],
                         ["auditors-eu"])
    accounts.set_password(rt, admin, "zoe", "another long passphrase")
    accounts.add_member(rt, admin, "finance", "zoe")
    accounts.add_member(rt, admin, "finance", "zoe")  # already in it: nothing to record
    issued = accounts.create_token(rt, admin, "zoe", "export script", ["read"])
    accounts.revoke_token(rt, admin, issued.token.id)
    accounts.set_active(rt, admin, "zoe", False)
    with rt.uow() as uow:
        events = [e for e in uow.audit_events.chain() if not e.cause.startswith("definition_")]
    assert [(e.cause, e.subject, e.actor) for e in events] == [
        ("group_created", "group:auditors-eu", "admin"), ("user_created", "user:zoe", "admin"),
        ("password_set", "user:zoe", "admin"), ("member_added", "group:finance", "admin"),
        ("token_created", f"token:{issued.token.id}", "admin"), ("token_revoked", f"token:{issued.token.id}", "admin"),
        ("user_disabled", "user:zoe", "admin")]
    assert events[1].details["roles"] == ["auditor"] and events[1].details["groups"] == ["auditors-eu"]
    recorded = str([e.details for e in events])
    secret = issued.text.split("_", 2)[2]  # bpm_<id>_<secret>: the secret may hold "_" itself (a test once took "g")
    assert "passphrase" not in recorded and secret not in recorded
    assert _check(rt).intact


def test_four_auditors_exporting_at_once_never_fork_the_admin_chain(rt):
    from bpm.runtime import audit_export

    start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    errors = []

    def export(n: int) -> None:
        try:
            for _ in range(5):
                audit_export.begin(rt, rt.actor("audrey" if n % 2 else "admin"), "csv", None, None)
        except Exception as exc:  # a failure here would be the test's finding
            errors.append(exc)

    threads = [threading.Thread(target=export, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with rt.uow() as uow:
        events = uow.audit_events.chain()
    assert [e.position for e in events] == list(range(1, len(events) + 1))
    assert sum(e.cause == "export_made" for e in events) == 20
    assert _check(rt).intact
