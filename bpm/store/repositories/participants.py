"""Who acted on an instance: the rows that keep a person's right to read it once their work is done."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert

from bpm.store.direct import DirectStatement
from bpm.store.models import PARTICIPANT_TABLE

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

# ON CONFLICT DO NOTHING is the same SQL on PostgreSQL and SQLite (3.24+): a second action by the same person,
# even a concurrent one, adds nothing and never fails.
_JOIN = DirectStatement(insert(PARTICIPANT_TABLE).values(
    instance_id=bindparam("instance_id"), username=bindparam("username"), since=bindparam("since"),
).on_conflict_do_nothing())
_IS_PARTICIPANT = DirectStatement(select(PARTICIPANT_TABLE.c.username).where(
    PARTICIPANT_TABLE.c.instance_id == bindparam("instance_id"), PARTICIPANT_TABLE.c.username == bindparam("username")))


class ParticipantRepository:
    """The ``instance_participant`` table of one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def join(self, instance_id: str, username: str, at: dt.datetime) -> None:
        """Queue: ``username`` acted on the instance (kept once, whatever they do next)."""
        self._uow.write(_JOIN, {"instance_id": instance_id, "username": username, "since": at})

    def has_acted(self, instance_id: str, username: str) -> bool:
        """True if ``username`` acted on the instance."""
        return _IS_PARTICIPANT.first(self._uow, {"instance_id": instance_id, "username": username}) is not None

    @staticmethod
    def instances_of(username: str) -> object:
        """A subquery of the ids of the instances ``username`` acted on (for scoping a list)."""
        return select(PARTICIPANT_TABLE.c.instance_id).where(PARTICIPANT_TABLE.c.username == username)
