"""Signing in through the company's identity provider: the local user an SSO subject is, and their groups."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bpm.config import Role
from bpm.errors import Unauthorized, shown
from bpm.runtime.accounts.people import NAME_PATTERN
from bpm.runtime.actors import Actor
from bpm.runtime.policy import SCOPES
from bpm.runtime.runtime import Runtime
from bpm.store.models import Group, Membership, User
from bpm.store.uow import UnitOfWork


def _sso_username(claims: Mapping[str, Any], username_claim: str) -> str:
    """A user name from the claims: the configured claim, else the e-mail's local part, else the subject."""
    for candidate in (claims.get(username_claim), str(claims.get("email") or "").split("@")[0], claims.get("sub")):
        if isinstance(candidate, str) and candidate:
            name = re.sub(r"[^a-z0-9._@-]", "-", candidate.lower())[:100].lstrip("._@-")
            if name:
                return name
    raise Unauthorized("the identity provider named no user")


def sign_in_with_sso(rt: Runtime, issuer: str, claims: Mapping[str, Any], id_token: str | None = None) -> Actor:
    """The user the provider vouches for: created at first sign-in, name, e-mail and groups refreshed every time.

    A subject is bound to one user for good (``oidc_subject`` = issuer and
    subject). A first sign-in may take over an existing user only if that user
    has no password (an admin created it for SSO, e.g. to give roles ahead):
    a provider account named "admin" must not become the local admin.
    """
    settings = rt.settings
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthorized("the identity provider named no subject")
    key = f"{issuer} {subject}"[:300]
    groups_claim = claims.get(settings.oidc_groups_claim) or []
    groups = sorted({g for g in groups_claim if isinstance(g, str) and NAME_PATTERN.match(g)}
                    if isinstance(groups_claim, list) else set())
    now = rt.now()
    with rt.uow() as uow:
        user = uow.people.by_subject(key)
        if user is None:
            username = _sso_username(claims, settings.oidc_username_claim)
            user = uow.objects.get(User, username)
            if user is not None and (user.password_hash is not None or user.oidc_subject is not None):
                raise Unauthorized(f"a local user {shown(username)} exists already; an admin must link the "
                                   "accounts (remove its password) before it can sign in through SSO")
            if user is None:
                user = User(username=username, display_name=username, roles=[Role.EMPLOYEE.value], created_at=now)
            user.oidc_subject = key
        if not user.active:
            raise Unauthorized("this user is disabled")
        name, email = claims.get("name"), claims.get("email")
        user.display_name = name[:200] if isinstance(name, str) and name else user.display_name
        user.email = email[:200] if isinstance(email, str) and email else user.email
        user.last_login_at = now
        uow.objects.add(user)
        uow.flush()
        _refresh_groups(uow, user.username, groups)
        uow.commit()
        username = user.username
    rt.actors.forget(username)
    return rt.actor(username)


def _refresh_groups(uow: UnitOfWork, username: str, groups: Sequence[str]) -> None:
    """Memberships become exactly the provider's groups (groups it names that we lack are made)."""
    current = {m.group_name: m for m in uow.people.memberships_of(username)}
    for name in groups:
        if uow.objects.get(Group, name) is None:
            uow.objects.add(Group(name=name, display_name=name))
            uow.flush()
        if name not in current:
            uow.objects.add(Membership(username=username, group_name=name))
    for name, membership in current.items():
        if name not in groups:
            uow.objects.remove(membership)
    uow.flush()


def actor_for_sso_subject(rt: Runtime, issuer: str, claims: Mapping[str, Any]) -> Actor:
    """The actor of a verified SSO access token: a user who signed in through SSO before; scopes from ``scope``.

    ``bpm:read``, ``bpm:write`` and ``bpm:admin`` in the token's ``scope``
    claim become our scopes; a token naming none of them may read and write.
    """
    key = f"{issuer} {claims.get('sub')}"[:300]
    with rt.uow() as uow:
        user = uow.people.by_subject(key)
        username = user.username if user is not None else None
    if username is None:
        raise Unauthorized("unknown user: sign in once through the company SSO first")
    granted = {part.removeprefix("bpm:") for part in str(claims.get("scope") or "").split()
               if part.startswith("bpm:")} & set(SCOPES)
    actor = rt.actor(username)
    return Actor(actor.username, actor.roles, actor.groups, frozenset(granted or {"read", "write"}))
