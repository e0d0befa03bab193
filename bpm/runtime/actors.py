"""Who is acting: users with their roles and groups, loaded briefly cached (``bpm.runtime.policy`` decides)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bpm.config import Role
from bpm.engine import Clock
from bpm.errors import Unauthorized, shown
from bpm.runtime.days import CompanyDays
from bpm.store.models import Absence, User
from bpm.store.uow import UnitOfWork

SYSTEM = "system"


class TaskLike(Protocol):
    """What a stand-in asks of a task: its process and when it was made."""

    definition_key: str
    created_at: dt.datetime


@dataclass(frozen=True)
class StandIn:
    """Someone the actor stands in for today (``bpm.runtime.absences``): their name and groups, the last day
    of their absence, and which of their tasks it covers. No cascading: only the absent person's own work,
    never the work of those the absent person stands in for."""

    person: str
    groups: frozenset[str]
    until: dt.date
    processes: frozenset[str] | None = None  # None: every process
    since: dt.datetime | None = None  # only tasks made from then on (the absence says "only new tasks")

    def covers(self, task: TaskLike) -> bool:
        """True if the absence covers ``task``'s process and (when it says so) it was made during it."""
        return ((self.processes is None or task.definition_key in self.processes)
                and (self.since is None or task.created_at >= self.since))


@dataclass(frozen=True)
class Actor:
    """A signed-in user with their roles and groups, loaded once per request.

    ``scopes`` limit what a request may do when it came with an API token
    (``read``, ``write``, ``admin``); None (a session, the CLI) limits nothing.
    ``stands_in`` names whoever is away today with the actor as their substitute.
    """

    username: str
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    scopes: frozenset[str] | None = None
    stands_in: tuple[StandIn, ...] = ()

    @property
    def is_admin(self) -> bool:
        """Admins may act on anything."""
        return Role.ADMIN in self.roles

    def has_role(self, *roles: str) -> bool:
        """True if the actor holds any of ``roles`` (admins hold all)."""
        return self.is_admin or bool(self.roles.intersection(roles))


SYSTEM_ACTOR = Actor(SYSTEM, frozenset({Role.ADMIN}))


def find_actor(uow: UnitOfWork, username: str, roles_of_groups: Mapping[str, frozenset[str]] | None = None,
               days: CompanyDays | None = None) -> Actor | None:
    """The active user ``username`` with their roles (their own and their groups', ``BPM_GROUP_ROLES``), or None.

    With the company's ``days``, also whom they stand in for today.
    """
    user = uow.objects.get(User, username)
    if user is None or not user.active:
        return None
    groups = uow.people.groups_of(username)
    roles = set(user.roles)
    for group in groups:
        roles.update((roles_of_groups or {}).get(group, ()))
    return Actor(user.username, frozenset(roles), groups, stands_in=_stands_in(uow, username, days) if days else ())


def _stands_in(uow: UnitOfWork, username: str,
               days: CompanyDays) -> tuple[StandIn, ...]:
    return tuple(stand_in_of(absence, groups, days)
                 for absence, groups in uow.absences.standing_in(username, days.today()))


def stand_in_of(absence: Absence, groups: frozenset[str], days: CompanyDays) -> StandIn:
    """What ``absence`` lets its substitute do: the absent person's work (``groups``: theirs), as it covers it."""
    return StandIn(absence.person, groups, absence.ends_on, frozenset(absence.processes) if absence.processes else None,
                   None if absence.existing_tasks else max(days.begins(absence.starts_on), absence.created_at))


def load_actor(uow: UnitOfWork, username: str | None, roles_of_groups: Mapping[str, frozenset[str]] | None = None,
               days: CompanyDays | None = None) -> Actor:
    """The active user ``username`` with roles and groups (and, given ``days``, their stand-ins), or Unauthorized."""
    if not username:
        raise Unauthorized("sign in first")
    actor = find_actor(uow, username, roles_of_groups, days)
    if actor is None:
        raise Unauthorized(f"unknown or inactive user {shown(username)}")
    return actor


class ActorCache:
    """Actors by username for a short time: a request should not cost a user lookup.

    A change of roles or groups takes effect within ``ttl_ms`` (as it would
    with any token carrying claims); a deactivated user likewise.
    """

    def __init__(self, clock: Clock, ttl_ms: int = 30_000, size: int = 10_000,
                 roles_of_groups: Mapping[str, frozenset[str]] | None = None,
                 days: CompanyDays | None = None) -> None:
        self._clock, self._ttl, self._size = clock, ttl_ms, size
        self.roles_of_groups = dict(roles_of_groups or {})
        self._days = days
        self._entries: dict[str, tuple[int, Actor]] = {}
        self._lock = threading.Lock()

    def is_active_user(self, username: str, uow: UnitOfWork) -> bool:
        """True if ``username`` is an active user: from the cache, else asked in ``uow`` (the caller's)."""
        entry = self._entries.get(username)
        if entry is not None and self._clock.now_ms() - entry[0] < self._ttl:
            return True
        user = uow.objects.get(User, username)
        return user is not None and user.active

    def forget(self, username: str) -> None:
        """Drop a cached actor (their roles, groups or status changed in this process)."""
        with self._lock:
            self._entries.pop(username, None)

    def clear(self) -> None:
        """Forget every cached actor (the people were replaced: a test's fresh database)."""
        with self._lock:
            self._entries.clear()

    def get(self, units: Callable[[], UnitOfWork], username: str | None) -> Actor:
        """The actor for ``username``, from the cache or the database; Unauthorized if unknown."""
        now = self._clock.now_ms()
        entry = self._entries.get(username or "")
        if entry is not None and now - entry[0] < self._ttl:
            return entry[1]
        with units() as uow:
            actor = load_actor(uow, username, self.roles_of_groups, self._days)
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[actor.username] = (now, actor)
        return actor

