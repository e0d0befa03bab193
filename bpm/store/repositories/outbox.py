"""Messages to deliver after commit (the transactional outbox)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select as select_models

from bpm.store import wakeups
from bpm.store.models import Notification, OutboxMessage
from bpm.store.vocabulary import OutboxStatus

OUTBOX_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]
NOTIFICATION_TABLE = Notification.__table__  # type: ignore[attr-defined]

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork


class Notice(NamedTuple):
    """One notice for one person's bell (``digested``: kept out of their digest)."""

    username: str
    message_id: str
    kind: str
    title: str
    body: str
    link: str | None
    instance_id: str | None
    at: dt.datetime
    digested: bool


class OutboxRepository:
    """The ``outbox_message`` table of one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def add(self, message_id: str, instance_id: str, node_id: str | None, channel: str, recipients: list[str],
            subject: str, body: str, template: str | None, created_at: dt.datetime, kind: str = "notify",
            task_id: str | None = None) -> None:
        """Queue a message, in the same transaction as the step that sends it (workers hear of it at commit)."""
        self._uow.insert_values(OutboxMessage, id=message_id, instance_id=instance_id, node_id=node_id or "",
                                channel=channel, recipients=recipients, subject=subject, body=body,
                                template=template, created_at=created_at, sent_at=None, last_error=None,
                                kind=kind, task_id=task_id)
        self._uow.wake_workers(wakeups.OUTBOX, created_at, created_at)

    # --- delivery (bpm.notify.deliver) ---

    def claim_pending(self, now: dt.datetime, worker: str, until: dt.datetime, limit: int) -> list[str]:
        """Mark up to ``limit`` messages ready to go ``sending`` for ``worker``: their ids, oldest first.

        Ready: pending and due (no next attempt set, or it has come), or sending under a lease that ran out.
        """
        ready = or_(and_(OUTBOX_TABLE.c.status == OutboxStatus.PENDING,
                         or_(OUTBOX_TABLE.c.next_attempt_at.is_(None), OUTBOX_TABLE.c.next_attempt_at <= now)),
                    and_(OUTBOX_TABLE.c.status == OutboxStatus.SENDING, OUTBOX_TABLE.c.locked_until < now))
        picked = (select(OUTBOX_TABLE.c.id).where(ready).order_by(OUTBOX_TABLE.c.created_at, OUTBOX_TABLE.c.id)
                  .limit(limit).with_for_update(skip_locked=True))
        rows = self._uow.execute(update(OUTBOX_TABLE).where(OUTBOX_TABLE.c.id.in_(picked.scalar_subquery()))
                                 .values(status=OutboxStatus.SENDING, locked_by=worker, locked_until=until)
                                 .returning(OUTBOX_TABLE.c.id, OUTBOX_TABLE.c.created_at)).all()
        return [row[0] for row in sorted(rows, key=lambda row: (row[1], row[0]))]

    def hold(self, message_ids: list[str], worker: str, now: dt.datetime, until: dt.datetime) -> list[str]:
        """Of these messages, those ``worker`` still holds under a lease that has not run out, their leases renewed
        to ``until`` in the same statement (so no other worker can take one meanwhile)."""
        if not message_ids:
            return []
        kept = self._uow.execute(update(OUTBOX_TABLE).where(
            OUTBOX_TABLE.c.id.in_(message_ids), OUTBOX_TABLE.c.status == OutboxStatus.SENDING,
            OUTBOX_TABLE.c.locked_by == worker, OUTBOX_TABLE.c.locked_until >= now)
            .values(locked_until=until).returning(OUTBOX_TABLE.c.id)).all()
        return [row[0] for row in kept]

    def held_messages(self, message_ids: list[str]) -> list[OutboxMessage]:
        """The messages, oldest first (after ``hold``)."""
        if not message_ids:
            return []
        return list(self._uow.session.exec(select_models(OutboxMessage).where(
            OutboxMessage.id.in_(message_ids))  # type: ignore[attr-defined]
            .order_by(OutboxMessage.created_at, OutboxMessage.id)).all())

    def next_due(self) -> dt.datetime | None:
        """When the next message is ready: the soonest pending one (at once, or its next attempt), or a lease
        running out (its worker died)."""
        table, moment = OUTBOX_TABLE, OUTBOX_TABLE.c.created_at.type
        ready_at = func.coalesce(table.c.next_attempt_at, table.c.created_at)
        pending = select(func.min(ready_at, type_=moment)).where(table.c.status == OutboxStatus.PENDING)
        leased = select(func.min(table.c.locked_until, type_=moment)).where(table.c.status == OutboxStatus.SENDING)
        row = self._uow.execute(select(pending.scalar_subquery(), leased.scalar_subquery())).one()
        return min((when for when in row if when is not None), default=None)

    def reached(self, message_id: str, delivered: list[str]) -> None:
        """Record whom the message reached so far (a retry skips them)."""
        self._uow.execute(update(OUTBOX_TABLE).where(OUTBOX_TABLE.c.id == message_id).values(delivered=delivered))

    def sent_many(self, message_ids: list[str], now: dt.datetime, note: str | None = None) -> None:
        """Several delivered to everyone, in one statement (a delivery round's)."""
        if message_ids:
            self._uow.execute(update(OUTBOX_TABLE).where(OUTBOX_TABLE.c.id.in_(message_ids)).values(
                status=OutboxStatus.SENT, sent_at=now, locked_by=None, locked_until=None, last_error=note))

    def give_back(self, message_id: str, status: str, attempts: int, next_attempt_at: dt.datetime | None,
                  error: str) -> None:
        """Not delivered: pending again at ``next_attempt_at``, or a dead letter."""
        self._uow.execute(update(OUTBOX_TABLE).where(OUTBOX_TABLE.c.id == message_id).values(
            status=status, attempts=attempts, next_attempt_at=next_attempt_at, last_error=error, locked_by=None,
            locked_until=None))

    def dead_letters(self, limit: int) -> list[OutboxMessage]:
        """Messages that failed every attempt, newest first."""
        query = (select_models(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DEAD)
                 .order_by(OutboxMessage.created_at.desc()).limit(limit))  # type: ignore[attr-defined]
        return list(self._uow.session.exec(query).all())

    def resend(self, message_id: str, now: dt.datetime) -> bool:
        """A dead letter pending again, with fresh attempts (whom it reached stays reached); False if none."""
        done = self._uow.execute(update(OUTBOX_TABLE).where(OUTBOX_TABLE.c.id == message_id,
                                                            OUTBOX_TABLE.c.status == OutboxStatus.DEAD)
                                 .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now))
        if done.rowcount == 1:
            self._uow.wake_workers(wakeups.OUTBOX, now, now)
        return done.rowcount == 1

    def add_notices(self, notices: list[Notice]) -> None:
        """Put notices in people's bells, each once per message (a second delivery adds nothing): one statement."""
        if not notices:
            return
        rows = [{"username": n.username, "message_id": n.message_id, "kind": n.kind, "title": n.title[:500],
                 "body": n.body, "link": n.link, "instance_id": n.instance_id, "created_at": n.at,
                 "digested_at": n.at if n.digested else None} for n in notices]
        insert_into = postgresql_insert if self._uow.dialect.name == "postgresql" else sqlite_insert
        # Many rows through one statement compiled once (SQLAlchemy sends them in batches), not a statement of
        # as many VALUES as rows, compiled anew for each count.
        self._uow.execute(insert_into(NOTIFICATION_TABLE).on_conflict_do_nothing(
            index_elements=["message_id", "username"]), rows)
