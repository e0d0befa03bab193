"""A person's notices (the bell) and how they want each kind delivered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy import func, update
from sqlmodel import select

from bpm.store.models import Notification, NotificationSetting
from bpm.store.paging import paginate

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

MOST_MARKED_AT_ONCE = 500


class NoticeRepository:
    """``uow.notices``: the ``notification`` and ``notification_setting`` tables."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def page_of(self, username: str, page: int, page_size: int,
                unread_only: bool = False) -> tuple[list[Notification], int]:
        """A page of ``username``'s notices, newest first, and how many there are."""
        query = select(Notification).where(Notification.username == username)
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        return paginate(self._uow.session, query, (Notification.created_at.desc(), Notification.id.desc()), page,
                        page_size)

    def unread_count(self, username: str) -> int:
        """How many of ``username``'s notices are unread."""
        return int(self._uow.session.exec(select(func.count()).select_from(Notification).where(
            Notification.username == username, Notification.read_at.is_(None))).one())

    def mark_read(self, username: str, at: dt.datetime, ids: Collection[int] | None = None) -> None:
        """Mark ``username``'s unread notices read (only those of ``ids``, at most 500, when given)."""
        query = update(Notification).where(Notification.username == username, Notification.read_at.is_(None))
        if ids is not None:
            query = query.where(Notification.id.in_([i for i in ids if 0 < i < 2**63][:MOST_MARKED_AT_ONCE]))
        self._uow.execute(query.values(read_at=at))

    def undigested_of(self, username: str) -> list[Notification]:
        """``username``'s notices not yet mailed in a digest, oldest first."""
        return list(self._uow.session.exec(select(Notification).where(
            Notification.username == username, Notification.digested_at.is_(None))
            .order_by(Notification.created_at)).all())

    def settings_of(self, usernames: Collection[str]) -> list[NotificationSetting]:
        """The delivery settings of those among ``usernames`` who chose any."""
        if not usernames:
            return []
        return list(self._uow.session.exec(select(NotificationSetting).where(
            NotificationSetting.username.in_(sorted(usernames)))).all())

    def all_settings(self) -> list[NotificationSetting]:
        """Everyone's delivery settings (the digest round reads them)."""
        return list(self._uow.session.exec(select(NotificationSetting)).all())
