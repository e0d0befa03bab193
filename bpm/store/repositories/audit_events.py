"""The definitions-and-administration chain (``audit_event``): appended like an instance's history."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from bpm.store.chain import ADMIN_CHAIN, GENESIS, entry_hash, event_body
from bpm.store.models import AuditEvent
from bpm.store.repositories.history import _READ_HEAD, queue_head

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork


class AuditEventRepository:
    """The ``audit_event`` table of one unit of work; append-only."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def append(self, at: dt.datetime, actor: str, cause: str, subject: str, details: dict[str, Any]) -> None:
        """Queue one event at the end of the admin chain, its head locked where it is read.

        These are rare (a publish, an export), so the plain way does: read and lock the head, then queue the
        event and the head's move for the unit's commit.
        """
        known = self._uow.chain_heads.get(ADMIN_CHAIN)
        if known is None:
            row = _READ_HEAD.first(self._uow, {"chain": ADMIN_CHAIN}, independent=True)
            known = (int(row[0]), str(row[1])) if row is not None else (0, GENESIS)
        position, prev = known
        digest = entry_hash(event_body(position + 1, prev, at=at, actor=actor, cause=str(cause), subject=subject,
                                       details=details))
        self._uow.insert_values(AuditEvent, position=position + 1, at=at, actor=actor, cause=str(cause),
                                subject=subject, details=details, prev_hash=prev, entry_hash=digest)
        queue_head(self._uow, ADMIN_CHAIN, position, digest, "the admin chain moved under us")

    def chain(self) -> list[AuditEvent]:
        """Every event in chain order."""
        return list(self._uow.session.exec(select(AuditEvent).order_by(AuditEvent.position, AuditEvent.id)).all())

    def about(self, subject: str) -> list[AuditEvent]:
        """The events naming one subject (``instance:ID``, ``definition:KEY:VERSION``), oldest first."""
        return list(self._uow.session.exec(select(AuditEvent).where(AuditEvent.subject == subject)
                                           .order_by(AuditEvent.position)).all())
