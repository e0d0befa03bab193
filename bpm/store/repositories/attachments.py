"""Files on a request: their rows (the content is a row of its own, read only when downloaded)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import col, select

from bpm.store.models import Attachment

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork


class AttachmentRepository:
    """``uow.attachments``: the ``attachment`` table."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def of_instance(self, instance_id: str) -> list[Attachment]:
        """A request's files, oldest first."""
        query = select(Attachment).where(Attachment.instance_id == instance_id)
        return list(self._uow.session.exec(query.order_by(col(Attachment.added_at), col(Attachment.id))).all())
