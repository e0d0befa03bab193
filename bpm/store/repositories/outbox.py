"""Messages to deliver after commit (the transactional outbox)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bpm.store.models import OutboxMessage

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork


class OutboxRepository:
    """The ``outbox_message`` table of one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def add(self, message_id: str, instance_id: str, node_id: str | None, channel: str, recipients: list[str],
            subject: str, body: str, template: str | None, created_at: dt.datetime, kind: str = "notify",
            task_id: str | None = None) -> None:
        """Queue a message, in the same transaction as the step that sends it."""
        self._uow.insert_values(OutboxMessage, id=message_id, instance_id=instance_id, node_id=node_id or "",
                                channel=channel, recipients=recipients, subject=subject, body=body,
                                template=template, created_at=created_at, sent_at=None, last_error=None,
                                kind=kind, task_id=task_id)
