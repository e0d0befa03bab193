"""Delivering the outbox: after commit, each message to each of its recipients, as they chose, exactly once or late.

A worker claims ready messages with a lease (``OutboxRepository.claim_pending``:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, as for jobs) and, for each:

1. resolves its recipients (users, ``group:NAME``, outside addresses) and,
   for every person, puts a notice in their bell — once per message, so a
   second delivery adds nothing;
2. sends what must go now: an e-mail to each person whose setting for this
   kind is "now" (the default) and to each outside address; a signed POST to
   each webhook URL; whoever chose the daily digest or the bell only gets no
   e-mail now;
3. marks it sent. When a send fails, whom it reached is kept (a retry skips
   them), and it is tried again after a growing delay; after
   ``BPM_NOTIFY_MAX_ATTEMPTS`` it is a **dead letter**, which admins see and
   may send again once the cause is fixed. A message whose step rolled back
   never existed, so it is never sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bpm.errors import NotFound, shown
from bpm.notify import mail, webhook
from bpm.notify.addresses import Recipient, RoundPeople, resolve, substitutes
from bpm.runtime.actors import Actor
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import NotificationSetting, OutboxMessage, ProcessInstance, User
from bpm.store.repositories.outbox import Notice
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import OutboxStatus

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)
FIRST_BACKOFF = dt.timedelta(seconds=30)  # then 1, 2, 4... minutes
MAX_BACKOFF = dt.timedelta(hours=2)
RECORD_EVERY = 20  # sent messages marked together (a worker killed mid-round may send these again)


@dataclass
class Plan:
    """What delivering one message means: notices for the bell, and sends, each keyed by its recipient."""

    notices: list[tuple[str, bool]] = field(default_factory=list)  # (username, kept out of digests)
    sends: list[tuple[str, Callable[[mail.Mailer], str]]] = field(default_factory=list)  # (recipient, send)


def deliver_due(rt: Runtime, worker: str, limit: int = 100, lease: dt.timedelta = LEASE,
                senders: mail.Senders | None = None) -> Counter[str]:
    """Deliver what is ready now; how many were sent, tried again later, went dead or were lost to another worker.

    A round holds its messages (their leases renewed in the statement that
    checks they are still ours), plans them and puts their notices in the
    bells in one transaction; its mails go out over ``BPM_SMTP_CONNECTIONS``
    connections in parallel, each reused for the messages it sends; the sent
    ones are marked so ``RECORD_EVERY`` at a time. (Issue 25: one message after
    another, with two transactions each, made about 125 mails/s.) Until a
    message is marked sent the round keeps renewing its lease, so no other
    worker sends it again; a worker killed mid-round leaves at most the
    messages sent since its last mark to be sent twice. ``senders``: the
    worker's connections, kept between rounds (else opened for this round).
    """
    now = rt.now()
    with rt.uow() as uow:
        ids = uow.outbox.claim_pending(now, worker, now + lease, limit)
        uow.commit()
    if not ids:
        return Counter()
    prepared = _prepare(rt, ids, worker, lease)
    said: Counter[str] = Counter()
    said["lost"] += len(ids) - len(prepared)
    own = senders is None
    senders = senders or mail.Senders(rt.settings)
    try:
        said.update(_send_all(rt, prepared, _Lease(rt, worker, lease, [item.id for item in prepared]), senders))
    finally:
        if own:
            senders.close()
    return +said


@dataclass
class Prepared:
    """A held message, planned: whom it reached before, how often it was tried, and what delivering it means."""

    id: str
    reached: list[str]
    attempts: int
    created_at: dt.datetime
    plan: Plan


@dataclass
class Outcome:
    """How sending one message went: "sent" (with a note), "failed" (with the error) or "lost"."""

    item: Prepared
    word: str
    reached: list[str] = field(default_factory=list)
    note: str | None = None


class _Lease:
    """The round's hold on the messages it has not marked sent yet, renewed — and checked — before a send once a
    third of it has passed (a slow mail server)."""

    def __init__(self, rt: Runtime, worker: str, lease: dt.timedelta, ids: list[str]) -> None:
        self.rt, self.worker, self.lease = rt, worker, lease
        self.renewed_at, self.ours = rt.now(), set(ids)
        self._lock = threading.Lock()

    def take(self, message_id: str) -> bool:
        """True if the message is still this worker's to send."""
        with self._lock:
            now = self.rt.now()
            if now - self.renewed_at > self.lease / 3:
                with self.rt.uow() as uow:
                    self.ours = set(uow.outbox.hold(sorted(self.ours), self.worker, now, now + self.lease))
                    uow.commit()
                self.renewed_at = now
            return message_id in self.ours

    def let_go(self, message_ids: list[str]) -> None:
        """These are marked (sent, or given back): no longer renewed."""
        with self._lock:
            self.ours.difference_update(message_ids)


def _prepare(rt: Runtime, ids: list[str], worker: str, lease: dt.timedelta) -> list[Prepared]:
    """Hold the claimed messages still ours (another worker may have taken one whose lease ran out), plan each
    and put its notices in the bells: one transaction."""
    prepared = []
    with rt.uow() as uow:
        now = rt.now()
        messages = uow.outbox.held_messages(uow.outbox.hold(ids, worker, now, now + lease))
        people, notices = RoundPeople(uow, messages), []
        for message in messages:
            plan = _plan(rt, uow, message, people)
            notices += [Notice(username, message.id, message.kind, message.subject, message.body, _link(rt, message),
                               message.instance_id, now, out_of_digest) for username, out_of_digest in plan.notices]
            prepared.append(Prepared(message.id, list(message.delivered or []), message.attempts,
                                     message.created_at, plan))
        uow.outbox.add_notices(notices)
        uow.commit()
    return prepared


def _send_all(rt: Runtime, prepared: list[Prepared], lease: _Lease, senders: mail.Senders) -> Counter[str]:
    """Send the round's messages over the senders' connections in parallel, marking them as they finish."""
    said: Counter[str] = Counter()
    finished: list[Outcome] = []

    def one(item: Prepared) -> Outcome:
        if not lease.take(item.id):
            return Outcome(item, "lost")
        return _send(rt, item, senders.mailer())

    for outcome in senders.each(one, prepared):
        finished.append(outcome)
        if len(finished) >= RECORD_EVERY:
            said.update(_record(rt, finished))
            lease.let_go([o.item.id for o in finished])
            finished.clear()
    said.update(_record(rt, finished))
    return said


def _send(rt: Runtime, item: Prepared, mailer: mail.Mailer) -> Outcome:
    """Send one message to each recipient it has not reached; several: whom it reached is kept after each, so a
    crash or a retry does not send it to them twice."""
    reached, notes = list(item.reached), set()
    try:
        for key, send in item.plan.sends:
            if key in reached:
                continue
            notes.add(send(mailer))
            reached.append(key)
            if len(item.plan.sends) > 1:
                with rt.uow() as uow:
                    uow.outbox.reached(item.id, reached)
                    uow.commit()
    except Exception as exc:  # a mail server or receiver that failed: tried again later
        return Outcome(item, "failed", reached, f"{type(exc).__name__}: {exc}"[:2000])
    return Outcome(item, "sent", reached, "BPM_SMTP_HOST is not set: logged, not sent" if notes == {"logged"}
                   else None)


def _record(rt: Runtime, outcomes: list[Outcome]) -> Counter[str]:
    """The sent ones marked sent together (one transaction); each failed one given back, or dead."""
    said: Counter[str] = Counter(outcome.word for outcome in outcomes if outcome.word in ("sent", "lost"))
    sent = [outcome for outcome in outcomes if outcome.word == "sent"]
    if sent:
        with rt.uow() as uow:
            for note in {outcome.note for outcome in sent}:
                uow.outbox.sent_many([o.item.id for o in sent if o.note == note], rt.now(), note)
            uow.commit()
    for outcome in outcomes:
        if outcome.word == "failed":
            item = outcome.item
            said[_failed(rt, item.id, item.attempts, outcome.reached, outcome.note or "", item.created_at)] += 1
    return said


def next_due(rt: Runtime) -> dt.datetime | None:
    """When the next message is ready to send (a lease that runs out included); None if none is waiting."""
    with rt.uow() as uow:
        return uow.outbox.next_due()


def _failed(rt: Runtime, message_id: str, attempts: int, reached: list[str], error: str,
            created_at: dt.datetime) -> str:
    attempts += 1
    dead = attempts >= rt.settings.notify_max_attempts
    backoff = min(FIRST_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)
    with rt.uow() as uow:
        uow.outbox.reached(message_id, reached)
        uow.outbox.give_back(message_id, OutboxStatus.DEAD if dead else OutboxStatus.PENDING, attempts,
                             None if dead else rt.now() + backoff, error)
        uow.commit()
    log = logger.error if dead else logger.warning
    log("message %s (queued %s) %s after %s attempts: %s", message_id, created_at.isoformat(),
        "is a dead letter" if dead else "will be tried again", attempts, error)
    return "dead" if dead else "later"


def _link(rt: Runtime, message: OutboxMessage) -> str | None:
    base = rt.settings.public_url.rstrip("/")
    if message.task_id:
        return f"{base}/tasks/{message.task_id}"
    if message.kind == "request-finished":
        return f"{base}/requests#i-{message.instance_id}"
    return None


def _plan(rt: Runtime, uow: UnitOfWork, message: OutboxMessage, people: RoundPeople) -> Plan:
    plan = Plan()
    if message.channel == "webhook":
        payload = _webhook_payload(uow, message)
        for url in message.recipients:
            plan.sends.append((url, _webhook_send(rt, url, payload, message.id)))
        return plan
    recipients = resolve(people, message.recipients)
    task = people.task(message.task_id)
    standing_in = dict(substitutes(uow, people, recipients, task, message.created_at, rt.days)) if task else {}
    recipients = [*recipients, *standing_in]
    names = {u.username: u.display_name for u in people.users([r.username for r in recipients if r.username])}
    kind = message.kind
    for recipient in recipients:
        mode = people.modes(recipient.username).get(kind, "now") if recipient.username else "now"
        if message.channel == "inbox":
            if recipient.username:
                plan.notices.append((recipient.username, True))
            continue
        if recipient.username:
            plan.notices.append((recipient.username, mode != "digest"))
        if mode == "now" and recipient.email:
            plan.sends.append((recipient.key, _mail_send(rt, message, recipient,
                                                         names.get(recipient.username or ""),
                                                         standing_in.get(recipient))))
    return plan


def _mail_send(rt: Runtime, message: OutboxMessage, recipient: Recipient, display_name: str | None,
               standing_in_for: str | None = None) -> Callable[[mail.Mailer], str]:
    def send(mailer: mail.Mailer) -> str:
        base = rt.settings.public_url.rstrip("/")
        greeting = f"Hello {display_name}," if display_name else "Hello,"
        text, html = mail.render("notice", greeting=greeting, subject=message.subject, body=message.body,
                                 standing_in_for=standing_in_for,
                                 link=_link(rt, message), company=rt.settings.company_name,
                                 settings_link=f"{base}/notifications#settings")
        return mailer.send(mail.compose(rt.settings, recipient.email or "", display_name, message.subject, text,
                                        html, f"{message.id}.{recipient.key}"))
    return send


def _webhook_payload(uow: UnitOfWork, message: OutboxMessage) -> dict[str, Any]:
    instance = uow.objects.get(ProcessInstance, message.instance_id)
    event = message.kind.removeprefix("instance.") if message.kind.startswith("instance.") else message.kind
    return {"id": message.id, "event": message.kind, "occurredAt": message.created_at.isoformat(),
            "instance": {"id": message.instance_id,
                         "definition": instance.definition_key if instance else None,
                         "version": instance.definition_version if instance else None,
                         "businessKey": instance.business_key if instance else None,
                         "status": event if event in ("completed", "failed", "cancelled") else None,
                         "outcome": instance.outcome if instance and event == "completed" else None},
            "process": message.body}


def _webhook_send(rt: Runtime, url: str, payload: dict[str, Any], message_id: str
                  ) -> Callable[[mail.Mailer], str]:
    def send(_mailer: mail.Mailer) -> str:
        webhook.post(rt.settings, url, payload, message_id, int(rt.clock.now_ms() // 1000))
        return "sent"
    return send


# --- daily digests ------------------------------------------------------------------------------------------------

def send_digests(rt: Runtime, mailer_factory: Callable[[], mail.Mailer] | None = None) -> int:
    """Once a day after ``BPM_DIGEST_HOUR`` (UTC): each person who chose a digest gets one with what is new."""
    now = rt.now()
    today = now.replace(hour=rt.settings.digest_hour, minute=0, second=0, microsecond=0)
    if now < today:
        return 0
    sent = 0
    with rt.uow() as uow:
        due = [row for row in uow.notices.all_settings()
               if "digest" in (row.modes or {}).values() and (row.last_digest_at is None or row.last_digest_at < today)]
        usernames = [row.username for row in due]
    if not due:
        return 0
    with (mailer_factory or (lambda: mail.Mailer(rt.settings)))() as mailer:
        for username in usernames:
            sent += _digest(rt, mailer, username, now)
    return sent


def _digest(rt: Runtime, mailer: mail.Mailer, username: str, now: dt.datetime) -> int:
    with rt.uow() as uow:
        user = uow.objects.get(User, username)
        notices = uow.notices.undigested_of(username)
        setting = uow.objects.get(NotificationSetting, username)
        if user is not None and user.email and notices:
            base = rt.settings.public_url.rstrip("/")
            subject = f"Your daily digest: {len(notices)} new"
            text, html = mail.render("digest", greeting=f"Hello {user.display_name},", subject=subject,
                                     notices=notices, company=rt.settings.company_name,
                                     settings_link=f"{base}/notifications#settings")
            mailer.send(mail.compose(rt.settings, user.email, user.display_name, subject, text, html,
                                     f"digest.{username}.{now.date().isoformat()}"))
        for notice in notices:
            notice.digested_at = now
            uow.objects.add(notice)
        if setting is not None:
            setting.last_digest_at = now
            uow.objects.add(setting)
        uow.commit()
    return 1 if notices and user is not None and user.email else 0


# --- dead letters: the admins' view -----------------------------------------------------------------------------

def dead_letters(uow: UnitOfWork, actor: Actor, limit: int = 200) -> list[OutboxMessage]:
    """Messages that failed every attempt (auditors and admins)."""
    require(actor, Action.INSTANCE_READ_ALL)
    return uow.outbox.dead_letters(limit)


def resend(rt: Runtime, actor: Actor, message_id: str) -> OutboxMessage:
    """Admins: try a dead letter again (its recipients reached already are not sent it twice)."""
    require(actor, Action.ACCOUNT_MANAGE)  # an admins' power over the whole service
    with rt.uow() as uow:
        if len(message_id) > 36 or not uow.outbox.resend(message_id, rt.now()):
            raise NotFound(f"no dead letter {shown(message_id)}")
        uow.commit()
        found = uow.objects.get(OutboxMessage, message_id)
        assert found is not None
        return found
