"""Who is acting, and the one place that says what they may do."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from bpm.errors import Forbidden, Unauthorized
from bpm.store.models import Membership, Task, User

SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """A signed-in user with their roles and groups, loaded once per request."""

    username: str
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        """Admins may act on anything."""
        return "admin" in self.roles

    def has_role(self, *roles: str) -> bool:
        """True if the actor holds any of ``roles`` (admins hold all)."""
        return self.is_admin or bool(self.roles.intersection(roles))


SYSTEM_ACTOR = Actor(SYSTEM, frozenset({"admin"}))


def load_actor(session: Session, username: str | None) -> Actor:
    """The active user ``username`` with roles and groups, or Unauthorized."""
    if not username:
        raise Unauthorized("sign in first")
    user = session.get(User, username)
    if user is None or not user.active:
        raise Unauthorized(f"unknown or inactive user '{username}'")
    groups = session.exec(select(Membership.group_name).where(Membership.username == username)).all()
    return Actor(user.username, frozenset(user.roles), frozenset(groups))


def require_role(actor: Actor, *roles: str, action: str) -> None:
    """Raise Forbidden unless ``actor`` holds one of ``roles``."""
    if not actor.has_role(*roles):
        raise Forbidden(f"only {' or '.join(roles)} users may {action}")


def may_work_on(actor: Actor, task: Task, candidate_users: set[str], candidate_groups: set[str]) -> bool:
    """Assignee, or (while unassigned) a candidate user or group member; admins always."""
    if actor.is_admin:
        return True
    if task.assignee is not None:
        return task.assignee == actor.username
    if not candidate_users and not candidate_groups:
        return True
    return actor.username in candidate_users or bool(actor.groups & candidate_groups)
