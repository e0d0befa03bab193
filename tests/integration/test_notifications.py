"""Notices delivered after commit: e-mail to a real SMTP server, signed webhooks to a real receiver, the bell,
digests, retries and dead letters — on the injected clock."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest
from sqlmodel import select

from bpm.errors import Forbidden
from bpm.notify import deliver, webhook
from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition
from bpm.runtime.instances import start_instance
from bpm.runtime.tasks import complete_task
from bpm.scheduler import Worker
from bpm.store.models import Notification, NotificationSetting, OutboxMessage

from ..conftest import EXPENSE, database_dump, wipe
from ..http_receiver import receiving
from ..mail_server import MailServer

SECRET = "a webhook secret"
DAY = 86_400_000


@pytest.fixture
def smtp():
    server = MailServer(user="bpm", password="mail-pass").start()
    yield server
    server.stop()


@pytest.fixture
def notify_rt(database_url, clock, smtp):
    """A runtime whose mail goes to the loopback server, with webhooks signed and links to bpm.test."""
    from bpm.app import create_app
    from bpm.runtime.demo import load_demo

    clock.set(1_767_258_000_000)  # 2026-01-01 09:00 UTC: after the digest hour
    app = create_app({"database_url": database_url, "dev_identity": True, "smtp_host": "127.0.0.1",
                      "smtp_port": smtp.port, "smtp_starttls": False, "smtp_username": "bpm",
                      "smtp_password": "mail-pass", "webhook_secret": SECRET, "public_url": "https://bpm.test",
                      "company_name": "Acme", "webhook_allow": "127.0.0.1"}, clock=clock)  # receivers on loopback
    rt = app.extensions["bpm"]
    wipe(rt)
    load_demo(rt)
    yield rt
    rt.close()


def _notices(rt, username: str) -> list[Notification]:
    with rt.uow() as uow:
        return list(uow.session.exec(select(Notification).where(Notification.username == username)
                                     .order_by(Notification.id)).all())


def _outbox(rt) -> list[OutboxMessage]:
    with rt.uow() as uow:
        return list(uow.session.exec(select(OutboxMessage).order_by(OutboxMessage.created_at)).all())


def test_a_new_task_reaches_its_assignee_by_mail_with_a_link_and_in_the_bell(notify_rt, smtp):
    _, run = start_instance(notify_rt, notify_rt.actor("ann"), "expense-approval", EXPENSE)
    assert smtp.messages == [], "nothing is sent before the worker delivers"
    assert Worker(notify_rt).deliver() == {"sent": 1}
    (mail,) = smtp.messages
    assert mail["To"] == "Bob Manager <bob@example.com>"
    assert mail["Subject"].startswith("[Acme] Approve expense of 1,500.00")
    assert mail["Auto-Submitted"] == "auto-generated"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    link = f"https://bpm.test/tasks/{run.created_tasks[0].id}"
    assert link in text and f'href="{link}"' in html and "Hello Bob Manager," in text
    (notice,) = _notices(notify_rt, "bob")
    assert notice.kind == "task-assigned" and notice.link == link and notice.read_at is None
    assert Worker(notify_rt).deliver() == {}, "delivered once"


def test_a_group_task_reaches_each_member_in_a_mail_of_their_own(notify_rt, smtp):
    _, run = start_instance(notify_rt, notify_rt.actor("ann"), "expense-approval", EXPENSE)
    Worker(notify_rt).deliver()
    complete_task(notify_rt, notify_rt.actor("bob"), run.created_tasks[0].id, "approve", {})
    smtp.messages.clear()
    Worker(notify_rt).deliver()
    finance = sorted(m["To"] for m in smtp.messages)
    assert finance == ["Carol Finance <carol@example.com>", "Frank Finance <frank@example.com>"]
    assert all(len(m.get_all("To")) == 1 and m["Cc"] is None for m in smtp.messages), "nobody sees the others"


def test_a_step_that_fails_after_writing_a_notice_sends_nothing(notify_rt, smtp, monkeypatch):
    _, run = start_instance(notify_rt, notify_rt.actor("ann"), "expense-approval", EXPENSE)
    Worker(notify_rt).deliver()
    smtp.messages.clear()
    before = database_dump(notify_rt)
    import bpm.runtime.advance as advance

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(advance, "_schedule_follow_up", broken)  # after the step queued the finance notice
    with pytest.raises(RuntimeError):
        complete_task(notify_rt, notify_rt.actor("bob"), run.created_tasks[0].id, "approve", {})
    monkeypatch.undo()
    assert database_dump(notify_rt) == before, "rolled back: no notice was ever queued"
    assert Worker(notify_rt).deliver() == {} and smtp.messages == []


def test_a_dead_mail_server_leaves_messages_queued_and_they_go_when_it_is_back(notify_rt, smtp, clock):
    smtp.stop()
    start_instance(notify_rt, notify_rt.actor("ann"), "expense-approval", EXPENSE)
    worker = Worker(notify_rt)
    assert worker.deliver() == {"later": 1}
    (queued,) = _outbox(notify_rt)
    assert queued.status == "pending" and queued.attempts == 1 and "Connection" in queued.last_error
    assert worker.deliver() == {}, "not again before its next attempt"
    smtp.start()
    clock.advance(30_000)
    assert worker.deliver() == {"sent": 1} and len(smtp.messages) == 1
    assert _outbox(notify_rt)[0].status == "sent"


def test_a_message_that_fails_every_attempt_is_a_dead_letter_an_admin_sends_again(notify_rt, smtp, clock):
    smtp.stop()
    start_instance(notify_rt, notify_rt.actor("ann"), "expense-approval", EXPENSE)
    worker = Worker(notify_rt)
    outcomes = []
    for _ in range(notify_rt.settings.notify_max_attempts):
        outcomes.append(worker.deliver())
        clock.advance(3 * 3_600_000)
    assert outcomes[-1] == {"dead": 1} and all(o == {"later": 1} for o in outcomes[:-1]), outcomes
    with notify_rt.uow() as uow:
        (dead,) = deliver.dead_letters(uow, notify_rt.actor("audrey"))
    smtp.start()
    with pytest.raises(Forbidden):
        deliver.resend(notify_rt, notify_rt.actor("audrey"), dead.id)  # auditors look; admins act
    deliver.resend(notify_rt, notify_rt.actor("admin"), dead.id)
    assert worker.deliver() == {"sent": 1} and len(smtp.messages) == 1
    assert len(_notices(notify_rt, "bob")) == 1, "the bell got it once, however many attempts the mail took"


def test_people_choose_mail_now_a_daily_digest_or_the_bell_only(notify_rt, smtp, clock):
    with notify_rt.uow() as uow:
        uow.session.add(NotificationSetting(username="bob", modes={"task-assigned": "digest"}))
        uow.session.add(NotificationSetting(username="ann", modes={"request-finished": "in-app"}))
        uow.commit()
    clock.set(1_767_236_400_000)  # 2026-01-01 03:00 UTC: before the digest hour
    _, run = start_instance(notify_rt, notify_rt.actor("ann"), "expense-approval", {**EXPENSE, "amount": 80})
    worker = Worker(notify_rt)
    worker.deliver()
    assert smtp.messages == [] and [n.digested_at for n in _notices(notify_rt, "bob")] == [None]
    complete_task(notify_rt, notify_rt.actor("bob"), run.created_tasks[0].id, "approve", {})
    worker.deliver()
    assert [m["Subject"] for m in smtp.messages] == ["[Acme] Expense approved"], "the process's own mail only"
    assert sorted(n.kind for n in _notices(notify_rt, "ann")) == ["notify", "request-finished"]
    clock.set(1_767_254_400_000)  # 08:00: the digest hour has passed
    assert worker.deliver() == {"digests": 1}
    digest = smtp.to("bob@example.com")[-1]
    assert digest["Subject"] == "[Acme] Your daily digest: 1 new"
    assert "Approve expense of 80.00 EUR for ann" in digest.get_body(("plain",)).get_content()
    assert worker.deliver() == {}, "one digest a day"
    clock.advance(DAY)
    assert worker.deliver() == {}, "nothing new: no digest"


@pytest.fixture
def receiver():
    with receiving("/hooks/bpm") as listening:
        yield listening


def test_a_definition_s_webhook_hears_its_instances_end_signed_and_retried(notify_rt, receiver, clock):
    url, got = receiver
    got.answers = [503]
    import_definition(notify_rt, SYSTEM_ACTOR, {
        "id": "hooked", "name": "Hooked", "webhooks": [{"url": url, "events": ["completed"]}],
        "nodes": [{"id": "s", "type": "start"}, {"id": "e", "type": "end", "data": {"outcome": "done"}}],
        "edges": [{"id": "a", "source": "s", "target": "e"}]})
    instance, _ = start_instance(notify_rt, SYSTEM_ACTOR, "hooked", {}, "PO-7")
    worker = Worker(notify_rt)
    assert worker.deliver() == {"later": 1}, "a 503 is tried again"
    clock.advance(30_000)
    assert worker.deliver() == {"sent": 1}
    assert [m.kind for m in _outbox(notify_rt)] == ["instance.completed"], "no 'started': not subscribed"
    (first_headers, _), (headers, body) = got.received
    payload = json.loads(body)
    assert payload["event"] == "instance.completed" and payload["instance"]["id"] == instance.id
    assert payload["instance"]["businessKey"] == "PO-7" and payload["instance"]["outcome"] == "done"
    now = clock.now_ms() // 1000
    assert webhook.verify(SECRET, headers["X-BPM-Signature"], body, now), "the receiver can check it is ours"
    assert not webhook.verify("another secret", headers["X-BPM-Signature"], body, now)
    assert not webhook.verify(SECRET, headers["X-BPM-Signature"], body + b" ", now), "and untouched"
    assert not webhook.verify(SECRET, headers["X-BPM-Signature"], body, now + 3600), "and fresh"
    assert headers["Idempotency-Key"] == first_headers["Idempotency-Key"], "a retry carries the same key"


def test_mail_goes_over_starttls_with_a_login_to_a_server_whose_certificate_is_checked(database_url, clock,
                                                                                       tmp_path):
    from bpm.app import create_app
    from bpm.runtime.demo import load_demo

    from ..mail_server import self_signed

    tls, ca_file = self_signed(tmp_path)
    server = MailServer(user="bpm", password="mail-pass", tls=tls).start()
    settings = {"database_url": database_url, "dev_identity": True, "smtp_host": "127.0.0.1",
                "smtp_port": server.port, "smtp_username": "bpm", "smtp_password": "mail-pass"}
    try:
        for ca, said in (("", "later"), (ca_file, "sent")):  # first with the system's CAs: refused
            app = create_app({**settings, "smtp_ca_file": ca}, clock=clock)
            rt = app.extensions["bpm"]
            if not ca:
                wipe(rt)
                load_demo(rt)
                start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
            clock.advance(60_000)
            assert Worker(rt).deliver() == {said: 1}
            rt.close()
        assert len(server.messages) == 1, "delivered once the certificate could be checked"
    finally:
        server.stop()


def test_a_title_with_a_typed_header_goes_out_once_on_one_line_with_no_header_added(notify_rt, smtp):
    """An employee's description becomes the task's title and the mail's subject: "\\r\\nBcc: …" in it must
    neither add a header nor make every attempt fail (the mail died after eight tries and finance never knew)."""
    _, run = start_instance(notify_rt, notify_rt.actor("ann"), "expense-approval",
                            {**EXPENSE, "description": "Laptop\r\nBcc: mallory@evil.example\r\n\r\nbody"})
    Worker(notify_rt).deliver()
    complete_task(notify_rt, notify_rt.actor("bob"), run.created_tasks[0].id, "approve", {})
    smtp.messages.clear()
    said = Worker(notify_rt).deliver()
    assert said == {"sent": 1} and len(smtp.messages) == 2, said  # one message: to carol and frank, finance
    for mail in smtp.messages:
        assert "\n" not in mail["Subject"] and "\r" not in mail["Subject"]
        assert "Bcc: mallory@evil.example" in mail["Subject"], "the text is kept, as text"
        assert mail["Bcc"] is None and "mallory" not in str(mail.get_all("To"))


def test_a_mail_with_non_ascii_names_and_subject_reads_back_as_written(notify_rt):
    import email
    from email.policy import default

    from bpm.notify import mail

    composed = mail.compose(replace(notify_rt.settings, mail_from="Prozessdienst Müller <bpm@example.com>"),
                            "joerg@example.com", "Jörg „Jo“ Ürük, Jr.", "Genehmigung für 1.500,00 € (dringend)",
                            "Grüße\nZeile zwei", "<p>Grüße</p>", "msg-ü.1")
    read = email.message_from_bytes(composed.as_bytes(), policy=default)
    assert read["To"].addresses[0].display_name == "Jörg „Jo“ Ürük, Jr."
    assert read["To"].addresses[0].addr_spec == "joerg@example.com"
    assert read["From"].addresses[0].display_name == "Prozessdienst Müller"
    assert str(read["Subject"]) == "[Acme] Genehmigung für 1.500,00 € (dringend)"
    assert read.get_body(("plain",)).get_content() == "Grüße\nZeile zwei\n" or \
        read.get_body(("plain",)).get_content() == "Grüße\nZeile zwei"
    assert read.get_body(("html",)).get_content().strip() == "<p>Grüße</p>"
    assert read["Auto-Submitted"] == "auto-generated" and read["Message-ID"].startswith("<msg-")


def test_every_attempt_at_one_mail_to_one_person_carries_the_same_message_id(notify_rt):
    from bpm.notify import mail

    first = mail.compose(notify_rt.settings, "bob@example.com", "Bob", "Hi", "t", "<p>t</p>", "msg-1.bob")
    again = mail.compose(notify_rt.settings, "bob@example.com", "Bob", "Hi", "t", "<p>t</p>", "msg-1.bob")
    other = mail.compose(notify_rt.settings, "carol@example.com", "Carol", "Hi", "t", "<p>t</p>", "msg-1.carol")
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    assert first["Message-ID"].startswith("<msg-1.bob@") and first["Message-ID"].endswith(">")


def test_a_slow_mail_server_and_a_second_worker_never_send_a_mail_twice(notify_rt, smtp, clock, monkeypatch):
    """Each mail takes a minute; the round claimed five under a two-minute lease. Without renewal the last ones'
    leases ran out mid-round and another worker sent them too (2 of 114 twice); now the round keeps its own."""
    from bpm.notify import deliver, mail

    monkeypatch.setattr(notify_rt, "settings", replace(notify_rt.settings, smtp_connections=1))  # one after another
    for _ in range(5):
        start_instance(notify_rt, notify_rt.actor("ann"), "expense-approval", EXPENSE)
    real_send = mail.Mailer.send
    other: list[object] = []

    def slow(self, message):
        clock.advance(60_000)
        if len(smtp.messages) == 2:  # mid-round, another worker looks for work
            other.append(deliver.deliver_due(notify_rt, "worker-b"))
        return real_send(self, message)

    monkeypatch.setattr(mail.Mailer, "send", slow)
    said = deliver.deliver_due(notify_rt, "worker-a")
    assert said == {"sent": 5} and other == [{}], (said, other)
    ids = [m["Message-ID"] for m in smtp.messages]
    assert len(ids) == 5 and len(set(ids)) == 5, "each mail once"


def test_parallel_sends_on_a_slow_server_with_a_second_worker_send_each_mail_once(notify_rt, smtp, clock,
                                                                                 monkeypatch):
    """Four connections at once, each mail taking 50 s of the round's two-minute lease, and another worker looking
    for work mid-round: whatever each worker ends up sending, every mail arrives exactly once."""
    from bpm.notify import deliver, mail

    for _ in range(8):
        start_instance(notify_rt, notify_rt.actor("ann"), "expense-approval", EXPENSE)
    real_send, lock, other = mail.Mailer.send, threading.Lock(), []

    def slow(self, message):
        with lock:
            clock.advance(50_000)
            if len(smtp.messages) == 3 and not other:
                other.append(deliver.deliver_due(notify_rt, "worker-b"))
        return real_send(self, message)

    monkeypatch.setattr(mail.Mailer, "send", slow)
    said = deliver.deliver_due(notify_rt, "worker-a")
    later = deliver.deliver_due(notify_rt, "worker-b")  # anything left over (a lease lost mid-round)
    ids = [m["Message-ID"] for m in smtp.messages]
    assert len(ids) == 8 and len(set(ids)) == 8, "each mail once"
    assert said["sent"] + sum(o.get("sent", 0) for o in other) + later.get("sent", 0) == 8, (said, other, later)
    assert {m.status for m in _outbox(notify_rt)} == {"sent"}


def test_a_server_dropping_connections_mid_round_loses_and_doubles_nothing(notify_rt, smtp):
    """The server hangs up on the third message of each connection before accepting it (as servers that limit
    messages per connection do): the message goes again on a new connection at once, nothing is lost and nobody
    gets a mail twice."""
    for _ in range(12):
        start_instance(notify_rt, notify_rt.actor("ann"), "expense-approval", EXPENSE)
    smtp.drop_every = 3
    said = Worker(notify_rt).deliver()
    ids = [m["Message-ID"] for m in smtp.messages]
    assert said == {"sent": 12} and len(ids) == 12 and len(set(ids)) == 12, said
    assert smtp.dropped >= 3, "the server did hang up"


def test_a_task_for_someone_away_reaches_their_substitute_too_and_their_own_choice_stays_theirs(notify_rt, smtp):
    from bpm.runtime.absences import record_absence

    today = notify_rt.days.today().isoformat()
    record_absence(notify_rt, notify_rt.actor("bob"), {"from": today, "to": today, "substitute": "dave"})
    with notify_rt.uow() as uow:  # bob reads his in the bell only; that stays his choice
        uow.objects.add(NotificationSetting(username="bob", modes={"task-assigned": "in-app"}))
        uow.commit()
    _, run = start_instance(notify_rt, notify_rt.actor("ann"), "expense-approval", EXPENSE)
    assert Worker(notify_rt).deliver() == {"sent": 1}
    (mail,) = smtp.messages
    assert mail["To"] == "Dave Head <dave@example.com>"
    assert "You stand in for bob, who is away" in mail.get_body(("plain",)).get_content()
    link = f"https://bpm.test/tasks/{run.created_tasks[0].id}"
    assert [n.link for n in _notices(notify_rt, "dave")] == [link]
    assert [n.link for n in _notices(notify_rt, "bob")] == [link], "bob's bell has it as well"

    smtp.messages.clear()
    notify_rt.clock.advance(DAY)  # the absence is over: the next notice is bob's alone
    complete_task(notify_rt, notify_rt.actor("bob"), run.created_tasks[0].id, "approve", {})
    start_instance(notify_rt, notify_rt.actor("ann"), "expense-approval", EXPENSE)
    Worker(notify_rt).deliver()
    assert all("dave@" not in m["To"] for m in smtp.messages)
