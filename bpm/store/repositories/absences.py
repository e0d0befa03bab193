"""Absences: who is away when, and for whom a person stands in (``bpm.runtime.absences`` holds the rules)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy import func, or_
from sqlmodel import select

from bpm.store.models import Absence, Membership, User
from bpm.store.paging import window

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork


class AbsenceRepository:
    """``uow.absences``: the ``absence`` table."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def lock_people(self, usernames: Collection[str]) -> None:
        """Hold the user rows of ``usernames`` until the unit ends (in name order, so two units never deadlock):
        two absences of one person, or one naming a substitute while the substitute's own is recorded, are
        checked one after the other, never both against a table without the other. SQLite's writers queue
        anyway (the unit began with BEGIN IMMEDIATE)."""
        query = select(User.username).where(User.username.in_(sorted(usernames))).order_by(User.username)
        self._uow.session.exec(query.with_for_update()).all()

    def overlapping(self, people: Collection[str], starts_on: dt.date, ends_on: dt.date) -> list[Absence]:
        """The absences of any of ``people`` that share a day with ``starts_on``..``ends_on``."""
        query = select(Absence).where(Absence.person.in_(sorted(people)), Absence.starts_on <= ends_on,
                                      Absence.ends_on >= starts_on).order_by(Absence.starts_on, Absence.id)
        return list(self._uow.session.exec(query).all())

    def standing_in(self, substitute: str, day: dt.date) -> list[tuple[Absence, frozenset[str]]]:
        """The absences ``substitute`` stands in for on ``day`` (of active people), each with the absent
        person's groups: the substitute sees what that person would see."""
        query = (select(Absence).join(User, User.username == Absence.person)
                 .where(Absence.substitute == substitute, Absence.ends_on >= day, Absence.starts_on <= day,
                        User.active).order_by(Absence.person))
        found = list(self._uow.session.exec(query).all())
        if not found:
            return []
        groups: dict[str, set[str]] = {}
        for username, group in self._uow.session.exec(
                select(Membership.username, Membership.group_name)
                .where(Membership.username.in_(sorted({a.person for a in found})))).all():
            groups.setdefault(username, set()).add(group)
        return [(absence, frozenset(groups.get(absence.person, ()))) for absence in found]

    def away_on(self, people: Collection[str], day: dt.date) -> list[Absence]:
        """The absences of any of ``people`` that include ``day``."""
        if not people:
            return []
        query = select(Absence).where(Absence.person.in_(sorted(people)), Absence.starts_on <= day,
                                      Absence.ends_on >= day)
        return list(self._uow.session.exec(query).all())

    def listed(self, person: str | None, involving: str | None, ended_before: dt.date, page: int,
               page_size: int) -> tuple[list[Absence], int]:
        """Absences not ended before ``ended_before``, soonest first: of ``person`` (None: anyone's), or those
        ``involving`` one person as the absent one or the substitute."""
        conditions = [Absence.ends_on >= ended_before]
        if person is not None:
            conditions.append(Absence.person == person)
        if involving is not None:
            conditions.append(or_(Absence.person == involving, Absence.substitute == involving))
        total = self._uow.session.exec(select(func.count()).select_from(Absence).where(*conditions)).one()
        bounds = window(page, page_size)
        rows = self._uow.session.exec(select(Absence).where(*conditions).order_by(
            Absence.starts_on, Absence.person, Absence.id).offset(bounds[0]).limit(bounds[1])).all() if bounds else []
        return list(rows), int(total)
