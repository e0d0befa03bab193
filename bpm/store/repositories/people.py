"""Users, groups and memberships, as accounts, sign-in, mail and the pickers ask for them."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import func, or_
from sqlmodel import SQLModel, select

from bpm.store.models import ApiToken, Group, Membership, User, UserSession
from bpm.store.paging import window

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

M = TypeVar("M", bound=SQLModel)


def _escaped(text: str) -> str:
    """``text`` for a LIKE pattern: its own % and _ match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PeopleRepository:
    """``uow.people``: the ``app_user``, ``app_group`` and ``group_membership`` tables (and a user's credentials)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def groups_of(self, username: str) -> frozenset[str]:
        """The names of the groups ``username`` is in."""
        query = select(Membership.group_name).where(Membership.username == username)
        return frozenset(self._uow.session.exec(query).all())

    def memberships_of(self, username: str) -> list[Membership]:
        """``username``'s membership rows (to change them)."""
        return list(self._uow.session.exec(select(Membership).where(Membership.username == username)).all())

    def everyone(self) -> list[tuple[User, list[str]]]:
        """Every user by name, with the names of their groups."""
        users = self._uow.session.exec(select(User).order_by(User.username)).all()
        memberships: dict[str, list[str]] = {}
        for member in self._uow.session.exec(select(Membership).order_by(Membership.group_name)).all():
            memberships.setdefault(member.username, []).append(member.group_name)
        return [(user, memberships.get(user.username, [])) for user in users]

    def find(self, text: str, page: int, page_size: int) -> tuple[list[tuple[str, str, list[str]]], int]:
        """Active people whose name or display name holds ``text`` (any case), by name: a page of
        ``(username, display name, groups)`` and how many match — nothing more of them (no e-mail, no roles)."""
        pattern = f"%{_escaped(text.lower())}%"
        matches = (User.active, or_(func.lower(User.username).like(pattern, escape="\\"),
                                    func.lower(User.display_name).like(pattern, escape="\\")))
        total = self._uow.session.exec(select(func.count()).select_from(User).where(*matches)).one()
        bounds = window(page, page_size)  # a page past anything that can exist is empty, not an overflow
        rows = self._uow.session.exec(select(User.username, User.display_name).where(*matches).order_by(
            User.username).offset(bounds[0]).limit(bounds[1])).all() if bounds else []
        groups: dict[str, list[str]] = {}
        if rows:
            for username, group in self._uow.session.exec(
                    select(Membership.username, Membership.group_name)
                    .where(Membership.username.in_([r[0] for r in rows])).order_by(Membership.group_name)).all():
                groups.setdefault(username, []).append(group)
        return [(name, display, groups.get(name, [])) for name, display in rows], int(total)

    def find_groups(self, text: str, page: int, page_size: int) -> tuple[list[tuple[str, str]], int]:
        """Groups whose name or display name holds ``text`` (any case), by name: a page and how many match."""
        pattern = f"%{_escaped(text.lower())}%"
        match = or_(func.lower(Group.name).like(pattern, escape="\\"),
                    func.lower(Group.display_name).like(pattern, escape="\\"))
        total = self._uow.session.exec(select(func.count()).select_from(Group).where(match)).one()
        bounds = window(page, page_size)
        rows = self._uow.session.exec(select(Group.name, Group.display_name).where(match).order_by(Group.name)
                                      .offset(bounds[0]).limit(bounds[1])).all() if bounds else []
        return [(name, display) for name, display in rows], int(total)

    def by_subject(self, subject_key: str) -> User | None:
        """The user an SSO subject (``issuer|sub``) signed in as before."""
        return self._uow.session.exec(select(User).where(User.oidc_subject == subject_key)).first()

    def anyone(self) -> bool:
        """Whether the directory has any user at all (a fresh database before its people are added has none)."""
        return self._uow.session.exec(select(User.username).limit(1)).first() is not None

    def users(self, usernames: Collection[str], active_only: bool = False) -> list[User]:
        """The users among ``usernames`` (unknown names, and with ``active_only`` disabled users, left out)."""
        if not usernames:
            return []
        query = select(User).where(User.username.in_(sorted(usernames)))
        return list(self._uow.session.exec(query.where(User.active) if active_only else query).all())

    def memberships_in(self, groups: Collection[str]) -> list[tuple[str, str]]:
        """(username, group) of every member of ``groups``."""
        if not groups:
            return []
        query = select(Membership.username, Membership.group_name).where(Membership.group_name.in_(sorted(groups)))
        return [(username, group) for username, group in self._uow.session.exec(query).all()]

    def members_of(self, groups: Collection[str]) -> list[str]:
        """The usernames in any of ``groups`` (with repeats, in no order)."""
        if not groups:
            return []
        query = select(Membership.username).where(Membership.group_name.in_(sorted(groups)))
        return list(self._uow.session.exec(query).all())

    def groups_among(self, names: Collection[str]) -> frozenset[str]:
        """The names among ``names`` that are groups."""
        if not names:
            return frozenset()
        return frozenset(self._uow.session.exec(select(Group.name).where(Group.name.in_(sorted(names)))).all())

    def active_members(self, groups: Collection[str]) -> dict[str, frozenset[str]]:
        """Each of ``groups`` with the active users in it (a group with none is missing)."""
        if not groups:
            return {}
        query = (select(Membership.group_name, Membership.username)
                 .join(User, User.username == Membership.username)
                 .where(Membership.group_name.in_(sorted(groups)), User.active))
        found: dict[str, set[str]] = {}
        for group, username in self._uow.session.exec(query).all():
            found.setdefault(group, set()).add(username)
        return {group: frozenset(names) for group, names in found.items()}

    def open_sessions(self, username: str) -> Iterator[UserSession]:
        """``username``'s browser sessions that have not ended."""
        yield from self._uow.session.exec(select(UserSession).where(
            UserSession.username == username, UserSession.revoked_at.is_(None))).all()  # type: ignore[union-attr]

    def tokens_of(self, username: str) -> list[ApiToken]:
        """``username``'s API tokens, oldest first."""
        query = select(ApiToken).where(ApiToken.username == username).order_by(ApiToken.created_at, ApiToken.id)
        return list(self._uow.session.exec(query).all())


class SavedViewRepository:
    """``uow.saved``: a person's saved inbox views and audit searches (one model per shelf)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def of(self, model: type[M], username: str) -> list[M]:
        """``username``'s saved rows of ``model``, by name."""
        query = select(model).where(model.username == username).order_by(model.name)  # type: ignore[attr-defined]
        return list(self._uow.session.exec(query).all())
