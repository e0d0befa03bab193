"""Who a message reaches: user names, ``group:NAME`` and e-mail addresses, resolved to people and addresses; and,
for a message about a task, the substitutes of those who are away."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from bpm.runtime.actors import stand_in_of
from bpm.runtime.days import CompanyDays
from bpm.store.models import TaskRecord
from bpm.store.uow import UnitOfWork


class Recipient(NamedTuple):
    """One person (``username`` set: they have a bell and settings) or an outside address."""

    key: str  # what delivery records as reached: the user name, or the address
    username: str | None
    email: str | None


def resolve(uow: UnitOfWork, names: Sequence[str]) -> list[Recipient]:
    """Each active user once (groups expanded to their active members), then outside addresses; others dropped."""
    groups = [name.removeprefix("group:") for name in names if name.startswith("group:")]
    plain = [name for name in names if not name.startswith("group:")]
    members = uow.people.members_of(groups)
    wanted = list(dict.fromkeys([*plain, *members]))
    users = {user.username: user for user in uow.people.users(wanted, active_only=True)}
    found = [Recipient(name, name, users[name].email or None) for name in wanted if name in users]
    outside = [Recipient(name, None, name) for name in plain
               if name not in users and "@" in name and "." in name.rsplit("@", 1)[-1]]
    return found + outside


def substitutes(uow: UnitOfWork, recipients: Sequence[Recipient], task: TaskRecord, at: dt.datetime,
                days: CompanyDays) -> list[tuple[Recipient, str]]:
    """Who stands in, on the day of ``at``, for a recipient away then, with the person they stand in for —
    when that absence covers ``task`` (its process; made since it began, if it says "only new tasks").
    Nobody twice, and nobody who is a recipient already; no cascading (a substitute's own substitute is not
    asked)."""
    people = [r.username for r in recipients if r.username]
    away = uow.absences.away_on(people, at.astimezone(days.zone).date())
    if not away:
        return []
    groups = {name: uow.people.groups_of(name) for name in {a.person for a in away}}
    covering = [a for a in away if stand_in_of(a, groups[a.person], days).covers(task)]
    reached = set(people)
    users = {u.username: u for u in uow.people.users({a.substitute for a in covering}, active_only=True)}
    found: list[tuple[Recipient, str]] = []
    for absence in sorted(covering, key=lambda a: a.person):
        user = users.get(absence.substitute)
        if user is not None and user.username not in reached:
            reached.add(user.username)
            found.append((Recipient(user.username, user.username, user.email or None), absence.person))
    return found
