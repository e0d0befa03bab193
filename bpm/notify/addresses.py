"""Who a message reaches: user names, ``group:NAME`` and e-mail addresses, resolved to people and addresses; and,
for a message about a task, the substitutes of those who are away."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import NamedTuple, Protocol

from bpm.runtime.actors import stand_in_of
from bpm.runtime.days import CompanyDays
from bpm.store.models import Absence, OutboxMessage, TaskRecord, User
from bpm.store.uow import UnitOfWork


class Recipient(NamedTuple):
    """One person (``username`` set: they have a bell and settings) or an outside address."""

    key: str  # what delivery records as reached: the user name, or the address
    username: str | None
    email: str | None


class People(Protocol):
    """Where people are looked up: the directory itself (PeopleRepository) or a round's copy (RoundPeople)."""

    def members_of(self, groups: Collection[str]) -> list[str]: ...

    def users(self, usernames: Collection[str], active_only: bool = False) -> list[User]: ...


def resolve(people: People, names: Sequence[str]) -> list[Recipient]:
    """Each active user once (groups expanded to their active members), then outside addresses; others dropped."""
    groups = [name.removeprefix("group:") for name in names if name.startswith("group:")]
    plain = [name for name in names if not name.startswith("group:")]
    members = people.members_of(groups)
    wanted = list(dict.fromkeys([*plain, *members]))
    users = {user.username: user for user in people.users(wanted, active_only=True)}
    found = [Recipient(name, name, users[name].email or None) for name in wanted if name in users]
    outside = [Recipient(name, None, name) for name in plain
               if name not in users and "@" in name and "." in name.rsplit("@", 1)[-1]]
    return found + outside


class RoundPeople:
    """The people, groups, notice settings, tasks and absences a delivery round needs, read once for the round
    rather than several times per message (issue 25: five queries per message held mail to ≈ 125/s)."""

    def __init__(self, uow: UnitOfWork, messages: Sequence[OutboxMessage]) -> None:
        self._uow = uow
        names = {name for m in messages for name in m.recipients}
        groups = {name.removeprefix("group:") for name in names if name.startswith("group:")}
        self._members: dict[str, list[str]] = {}
        for username, group in uow.people.memberships_in(groups):
            self._members.setdefault(group, []).append(username)
        wanted = {n for n in names if not n.startswith("group:")} | {u for m in self._members.values() for u in m}
        self._users: dict[str, User | None] = dict.fromkeys(wanted)
        self._users.update({user.username: user for user in uow.people.users(wanted)})
        self._modes = {row.username: dict(row.modes or {}) for row in uow.notices.settings_of(
            [name for name, user in self._users.items() if user is not None])}
        task_ids = sorted({m.task_id for m in messages if m.task_id})
        self._tasks = {task.id: task for task in uow.tasks.get_many(task_ids)}
        self._away: dict[dt.date, list[Absence]] = {}

    def members_of(self, groups: Collection[str]) -> list[str]:
        return [username for group in groups for username in self._members.get(group, [])]

    def users(self, usernames: Collection[str], active_only: bool = False) -> list[User]:
        missing = [name for name in usernames if name not in self._users]
        if missing:  # (a substitute, known only once absences are read)
            self._users.update(dict.fromkeys(missing))
            self._users.update({user.username: user for user in self._uow.people.users(missing)})
            self._modes.update({row.username: dict(row.modes or {})
                                for row in self._uow.notices.settings_of(missing)})
        found = (self._users.get(name) for name in dict.fromkeys(usernames))
        return [user for user in found if user is not None and (user.active or not active_only)]

    def modes(self, username: str) -> dict[str, str]:
        """How ``username`` wants each kind of notice (unset: at once)."""
        return self._modes.get(username, {})

    def task(self, task_id: str | None) -> TaskRecord | None:
        return self._tasks.get(task_id) if task_id else None

    def away_on(self, people: Collection[str], day: dt.date) -> list[Absence]:
        """The absences including ``day`` of anyone this round reaches, read once per day, of ``people``."""
        if day not in self._away:
            self._away[day] = self._uow.absences.away_on([n for n, u in self._users.items() if u], day)
        wanted = set(people)
        return [absence for absence in self._away[day] if absence.person in wanted]


def substitutes(uow: UnitOfWork, people: RoundPeople, recipients: Sequence[Recipient], task: TaskRecord,
                at: dt.datetime, days: CompanyDays) -> list[tuple[Recipient, str]]:
    """Who stands in, on the day of ``at``, for a recipient away then, with the person they stand in for —
    when that absence covers ``task`` (its process; made since it began, if it says "only new tasks").
    Nobody twice, and nobody who is a recipient already; no cascading (a substitute's own substitute is not
    asked)."""
    named = [r.username for r in recipients if r.username]
    away = people.away_on(named, at.astimezone(days.zone).date())
    if not away:
        return []
    groups = {name: uow.people.groups_of(name) for name in {a.person for a in away}}
    covering = [a for a in away if stand_in_of(a, groups[a.person], days).covers(task)]
    reached = set(named)
    users = {u.username: u for u in people.users({a.substitute for a in covering}, active_only=True)}
    found: list[tuple[Recipient, str]] = []
    for absence in sorted(covering, key=lambda a: a.person):
        user = users.get(absence.substitute)
        if user is not None and user.username not in reached:
            reached.add(user.username)
            found.append((Recipient(user.username, user.username, user.email or None), absence.person))
    return found
