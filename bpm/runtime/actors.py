"""Who is acting: users with their roles and groups, loaded briefly cached (``bpm.runtime.policy`` decides)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bpm.config import Role
from bpm.engine import Clock
from bpm.errors import Unauthorized, shown
from bpm.store.models import User
from bpm.store.uow import UnitOfWork

SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """A signed-in user with their roles and groups, loaded once per request.

    ``scopes`` limit what a request may do when it came with an API token
    (``read``, ``write``, ``admin``); None (a session, the CLI) limits nothing.
    """

    username: str
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    scopes: frozenset[str] | None = None

    @property
    def is_admin(self) -> bool:
        """Admins may act on anything."""
        return Role.ADMIN in self.roles

    def has_role(self, *roles: str) -> bool:
        """True if the actor holds any of ``roles`` (admins hold all)."""
        return self.is_admin or bool(self.roles.intersection(roles))


SYSTEM_ACTOR = Actor(SYSTEM, frozenset({Role.ADMIN}))


def find_actor(uow: UnitOfWork, username: str,
               roles_of_groups: Mapping[str, frozenset[str]] | None = None) -> Actor | None:
    """The active user ``username`` with their roles (their own and their groups', ``BPM_GROUP_ROLES``), or None."""
    user = uow.objects.get(User, username)
    if user is None or not user.active:
        return None
    groups = uow.people.groups_of(username)
    roles = set(user.roles)
    for group in groups:
        roles.update((roles_of_groups or {}).get(group, ()))
    return Actor(user.username, frozenset(roles), groups)


def load_actor(uow: UnitOfWork, username: str | None,
               roles_of_groups: Mapping[str, frozenset[str]] | None = None) -> Actor:
    """The active user ``username`` with roles and groups, or Unauthorized."""
    if not username:
        raise Unauthorized("sign in first")
    actor = find_actor(uow, username, roles_of_groups)
    if actor is None:
        raise Unauthorized(f"unknown or inactive user {shown(username)}")
    return actor


class ActorCache:
    """Actors by username for a short time: a request should not cost a user lookup.

    A change of roles or groups takes effect within ``ttl_ms`` (as it would
    with any token carrying claims); a deactivated user likewise.
    """

    def __init__(self, clock: Clock, ttl_ms: int = 30_000, size: int = 10_000,
                 roles_of_groups: Mapping[str, frozenset[str]] | None = None) -> None:
        self._clock, self._ttl, self._size = clock, ttl_ms, size
        self.roles_of_groups = dict(roles_of_groups or {})
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

    def get(self, units: Callable[[], UnitOfWork], username: str | None) -> Actor:
        """The actor for ``username``, from the cache or the database; Unauthorized if unknown."""
        now = self._clock.now_ms()
        entry = self._entries.get(username or "")
        if entry is not None and now - entry[0] < self._ttl:
            return entry[1]
        with units() as uow:
            actor = load_actor(uow, username, self.roles_of_groups)
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[actor.username] = (now, actor)
        return actor

