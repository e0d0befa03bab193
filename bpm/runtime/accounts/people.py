"""Users and groups: who exists, with which roles, in which groups; every change in the admin chain."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from bpm.config import ROLES, Role
from bpm.errors import ConflictError, InvalidRequest, NotFound, shown
from bpm.runtime.accounts.passwords import check_password, hash_password
from bpm.runtime.accounts.sessions import end_sessions
from bpm.runtime.actors import Actor
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import Group, Membership, User
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import AdminCause

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,99}$")


def check_name(name: str, field: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidRequest(f"invalid {field}", {field: [
            "1 to 100 characters: lowercase letters, digits, '.', '_', '@', '-', starting with a letter or digit"]})
    return name


def _check_roles(roles: Iterable[str]) -> list[str]:
    roles = sorted(set(roles))
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise InvalidRequest("unknown role", {"roles": [f"{shown(r)} is not one of {', '.join(ROLES)}"
                                                        for r in unknown]})
    return roles


def create_user(rt: Runtime, actor: Actor, username: str, display_name: str | None = None,
                email: str | None = None, password: str | None = None, roles: Sequence[str] = (Role.EMPLOYEE,),
                groups: Sequence[str] = ()) -> User:
    """A new local user (with a password, or none: then only SSO or a token signs them in)."""
    require(actor, Action.ACCOUNT_MANAGE)
    check_name(username, "username")
    hashed = hash_password(check_password(rt, password)) if password is not None else None
    with rt.uow() as uow:
        if uow.objects.get(User, username) is not None:
            raise ConflictError(f"user {shown(username)} exists already")
        user = User(username=username, display_name=display_name or username, email=email,
                    roles=_check_roles(roles), created_at=rt.now(), password_hash=hashed)
        uow.objects.add(user)
        uow.flush()
        for group in groups:
            add_membership(uow, group, username)
        record_change(rt, uow, actor, AdminCause.USER_CREATED, f"user:{username}",
                      {"roles": user.roles, "groups": sorted(groups), "email": email, "password": hashed is not None})
        uow.commit()
        return user


def set_password(rt: Runtime, actor: Actor, username: str, password: str) -> None:
    """Give a user a new password; their open sessions end (someone may have known the old one)."""
    require(actor, Action.ACCOUNT_MANAGE)
    hashed = hash_password(check_password(rt, password))
    with rt.uow() as uow:
        user = user_named(uow, username)
        user.password_hash = hashed
        uow.objects.add(user)
        end_sessions(uow, username, rt.now())
        record_change(rt, uow, actor, AdminCause.PASSWORD_SET, f"user:{username}", {})
        uow.commit()


def set_active(rt: Runtime, actor: Actor, username: str, active: bool) -> None:
    """Disable (or enable again) a user: a disabled user's sessions end and their tokens stop working."""
    require(actor, Action.ACCOUNT_MANAGE)
    with rt.uow() as uow:
        user = user_named(uow, username)
        user.active = active
        uow.objects.add(user)
        if not active:
            end_sessions(uow, username, rt.now())
        cause = AdminCause.USER_ENABLED if active else AdminCause.USER_DISABLED
        record_change(rt, uow, actor, cause, f"user:{username}", {})
        uow.commit()
    rt.actors.forget(username)


def list_users(rt: Runtime, actor: Actor) -> list[tuple[User, list[str]]]:
    """Every user with their groups, by name."""
    require(actor, Action.ACCOUNT_MANAGE)
    with rt.uow() as uow:
        return uow.people.everyone()


def create_group(rt: Runtime, actor: Actor, name: str, display_name: str | None = None) -> Group:
    """A new group that tasks can be offered to."""
    require(actor, Action.ACCOUNT_MANAGE)
    check_name(name, "name")
    with rt.uow() as uow:
        if uow.objects.get(Group, name) is not None:
            raise ConflictError(f"group {shown(name)} exists already")
        group = Group(name=name, display_name=display_name or name)
        uow.objects.add(group)
        record_change(rt, uow, actor, AdminCause.GROUP_CREATED, f"group:{name}", {"displayName": group.display_name})
        uow.commit()
        return group


def add_member(rt: Runtime, actor: Actor, group: str, username: str) -> None:
    """Put a user in a group (nothing happens if they are in it)."""
    require(actor, Action.ACCOUNT_MANAGE)
    with rt.uow() as uow:
        user_named(uow, username)
        if uow.objects.get(Membership, (username, group)) is None:
            add_membership(uow, group, username)
            record_change(rt, uow, actor, AdminCause.MEMBER_ADDED, f"group:{group}", {"user": username})
        uow.commit()
    rt.actors.forget(username)


def record_change(rt: Runtime, uow: UnitOfWork, actor: Actor, cause: AdminCause, subject: str,
                  details: dict[str, Any]) -> None:
    """An account change, in the admin chain, in the same transaction as the change (no secret in it)."""
    uow.audit_events.append(rt.now(), actor.username, cause, subject, details)


def add_membership(uow: UnitOfWork, group: str, username: str) -> None:
    if uow.objects.get(Group, group) is None:
        raise InvalidRequest("unknown group", {"group": [f"no group {shown(group)}; create it first"]})
    if uow.objects.get(Membership, (username, group)) is None:
        uow.objects.add(Membership(username=username, group_name=group))
        uow.flush()


def user_named(uow: UnitOfWork, username: str) -> User:
    user = uow.objects.get(User, username)
    if user is None:
        raise NotFound(f"no user {shown(username)}")
    return user
