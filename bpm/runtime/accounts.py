"""People and their credentials: users, groups, passwords, API tokens, browser sessions, sign-in throttling.

The CLI (`bpm users`, `bpm groups`, `bpm tokens`), the API and the sign-in
pages call these; the policy decides who may manage whom.

- Passwords are argon2id hashes (argon2-cffi, its recommended parameters),
  rehashed on sign-in when the parameters change. An unknown user costs a
  hash too, so response times do not tell which names exist.
- API tokens are ``bpm_<id>_<secret>``: 32 random bytes of secret, of which
  only a SHA-256 is stored (a slow hash protects guessable secrets; these are
  not guessable), compared in constant time; shown once.
- A browser session is a random id in the signed cookie and its SHA-256 in
  ``user_session``: logout, an idle or absolute timeout, or disabling the
  user ends it on the server, whatever the cookie says.
- Failed sign-ins are counted per account and per address in a window; past
  ``login_max_failures`` each further attempt waits twice as long (30 s,
  1 min, ... at most the window), correct password or not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bpm.config import ROLES, Role
from bpm.errors import ConflictError, InvalidRequest, NotFound, TooManyAttempts, Unauthorized, shown
from bpm.runtime.actors import Actor
from bpm.runtime.policy import SCOPES, Action, allows, require
from bpm.runtime.runtime import Runtime
from bpm.store.chain import stamp
from bpm.store.models import ApiToken, Group, LoginThrottle, Membership, User, UserSession
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import AdminCause

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,99}$")
TOKEN_PATTERN = re.compile(r"^bpm_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})$")
SESSION_SEEN_EVERY = dt.timedelta(seconds=60)  # last_seen_at is written at most this often
TOKEN_USED_EVERY = dt.timedelta(minutes=5)
FIRST_WAIT_SECONDS = 30


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``."""
    return _hasher().hash(password)


def _check_password(rt: Runtime, password: str | None) -> str:
    if not isinstance(password, str) or len(password) < rt.settings.password_min_length:
        raise InvalidRequest("password too short", {
            "password": [f"at least {rt.settings.password_min_length} characters"]})
    if len(password) > 1000:
        raise InvalidRequest("password too long", {"password": ["at most 1000 characters"]})
    return password


def _check_name(name: str, field: str) -> str:
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


# --- users and groups --------------------------------------------------------------------------------------------

def create_user(rt: Runtime, actor: Actor, username: str, display_name: str | None = None,
                email: str | None = None, password: str | None = None, roles: Sequence[str] = (Role.EMPLOYEE,),
                groups: Sequence[str] = ()) -> User:
    """A new local user (with a password, or none: then only SSO or a token signs them in)."""
    require(actor, Action.ACCOUNT_MANAGE)
    _check_name(username, "username")
    hashed = hash_password(_check_password(rt, password)) if password is not None else None
    with rt.uow() as uow:
        if uow.objects.get(User, username) is not None:
            raise ConflictError(f"user {shown(username)} exists already")
        user = User(username=username, display_name=display_name or username, email=email,
                    roles=_check_roles(roles), created_at=rt.now(), password_hash=hashed)
        uow.objects.add(user)
        uow.flush()
        for group in groups:
            _add_member(uow, group, username)
        _record(rt, uow, actor, AdminCause.USER_CREATED, f"user:{username}",
                {"roles": user.roles, "groups": sorted(groups), "email": email, "password": hashed is not None})
        uow.commit()
        return user


def set_password(rt: Runtime, actor: Actor, username: str, password: str) -> None:
    """Give a user a new password; their open sessions end (someone may have known the old one)."""
    require(actor, Action.ACCOUNT_MANAGE)
    hashed = hash_password(_check_password(rt, password))
    with rt.uow() as uow:
        user = _user(uow, username)
        user.password_hash = hashed
        uow.objects.add(user)
        _end_sessions(uow, username, rt.now())
        _record(rt, uow, actor, AdminCause.PASSWORD_SET, f"user:{username}", {})
        uow.commit()


def set_active(rt: Runtime, actor: Actor, username: str, active: bool) -> None:
    """Disable (or enable again) a user: a disabled user's sessions end and their tokens stop working."""
    require(actor, Action.ACCOUNT_MANAGE)
    with rt.uow() as uow:
        user = _user(uow, username)
        user.active = active
        uow.objects.add(user)
        if not active:
            _end_sessions(uow, username, rt.now())
        _record(rt, uow, actor, AdminCause.USER_ENABLED if active else AdminCause.USER_DISABLED, f"user:{username}",
                {})
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
    _check_name(name, "name")
    with rt.uow() as uow:
        if uow.objects.get(Group, name) is not None:
            raise ConflictError(f"group {shown(name)} exists already")
        group = Group(name=name, display_name=display_name or name)
        uow.objects.add(group)
        _record(rt, uow, actor, AdminCause.GROUP_CREATED, f"group:{name}", {"displayName": group.display_name})
        uow.commit()
        return group


def add_member(rt: Runtime, actor: Actor, group: str, username: str) -> None:
    """Put a user in a group (nothing happens if they are in it)."""
    require(actor, Action.ACCOUNT_MANAGE)
    with rt.uow() as uow:
        _user(uow, username)
        if uow.objects.get(Membership, (username, group)) is None:
            _add_member(uow, group, username)
            _record(rt, uow, actor, AdminCause.MEMBER_ADDED, f"group:{group}", {"user": username})
        uow.commit()
    rt.actors.forget(username)


def _record(rt: Runtime, uow: UnitOfWork, actor: Actor, cause: AdminCause, subject: str,
            details: dict[str, Any]) -> None:
    """An account change, in the admin chain, in the same transaction as the change (no secret in it)."""
    uow.audit_events.append(rt.now(), actor.username, cause, subject, details)


def _add_member(uow: UnitOfWork, group: str, username: str) -> None:
    if uow.objects.get(Group, group) is None:
        raise InvalidRequest("unknown group", {"group": [f"no group {shown(group)}; create it first"]})
    if uow.objects.get(Membership, (username, group)) is None:
        uow.objects.add(Membership(username=username, group_name=group))
        uow.flush()


def _user(uow: UnitOfWork, username: str) -> User:
    user = uow.objects.get(User, username)
    if user is None:
        raise NotFound(f"no user {shown(username)}")
    return user


# --- passwords and throttling ------------------------------------------------------------------------------------

def sign_in_with_password(rt: Runtime, username: str, password: str, address: str | None) -> Actor:
    """The actor for a correct password; Unauthorized otherwise, TooManyAttempts while throttled.

    Throttling is checked before the password, so a blocked account cannot be
    probed; a success clears the account's count (not the address's).
    """
    keys = [f"user:{username[:100]}"] + ([f"addr:{address[:100]}"] if address else [])
    now = rt.now()
    with rt.uow() as uow:
        _refuse_while_blocked(uow, keys, now)
        user = uow.objects.get(User, username) if isinstance(username, str) else None
        stored = user.password_hash if user is not None else None
        correct = _verify(stored or _dummy_hash(), password) and stored is not None
        if not correct or user is None or not user.active:
            _count_failure(rt, uow, keys, now)
            uow.commit()
            raise Unauthorized("wrong user name or password")
        if _hasher().check_needs_rehash(stored):
            user.password_hash = hash_password(password)
        user.last_login_at = now
        uow.objects.add(user)
        found = uow.objects.get(LoginThrottle, keys[0])
        if found is not None:
            uow.objects.remove(found)
        uow.commit()
    return rt.actor(username)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher().verify(hashed, password if isinstance(password, str) else "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _refuse_while_blocked(uow: UnitOfWork, keys: list[str], now: dt.datetime) -> None:
    for key in keys:
        row = uow.objects.get(LoginThrottle, key, for_update=True)
        if row is not None and row.blocked_until is not None and row.blocked_until > now:
            wait = max(1, int((row.blocked_until - now).total_seconds() + 0.999))
            what = "this account" if key.startswith("user:") else "this address"
            raise TooManyAttempts(f"too many failed sign-ins for {what}; try again in {wait} s", wait)


def _count_failure(rt: Runtime, uow: UnitOfWork, keys: list[str], now: dt.datetime) -> None:
    window = dt.timedelta(minutes=rt.settings.login_window_minutes)
    for key in keys:
        row = uow.objects.get(LoginThrottle, key, for_update=True)
        if row is None or now - row.window_started_at > window:
            if row is not None:
                uow.objects.remove(row)
                uow.flush()
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
        row.failures += 1
        over = row.failures - rt.settings.login_max_failures
        if over >= 0:
            wait = min(FIRST_WAIT_SECONDS * 2 ** min(over, 20), window.total_seconds())
            row.blocked_until = now + dt.timedelta(seconds=wait)
        uow.objects.add(row)
        uow.flush()


# --- company SSO ------------------------------------------------------------------------------------------------

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


# --- API tokens --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedToken:
    """A new token: its row, and the secret text, which is shown this once and stored nowhere."""

    token: ApiToken
    text: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(rt: Runtime, actor: Actor, username: str, name: str, scopes: Sequence[str] = ("read", "write"),
                 expires_in: dt.timedelta | None = None) -> IssuedToken:
    """A bearer token for ``username`` (yourself, or anyone if you are an admin) with these scopes."""
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InvalidRequest("unknown scope", {"scopes": [f"one or more of {', '.join(SCOPES)}"]})
    if expires_in is not None and expires_in <= dt.timedelta(0):
        raise InvalidRequest("invalid expiry", {"expiresIn": ["a positive duration"]})
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise InvalidRequest("invalid name", {"name": ["1 to 100 characters"]})
    if username != actor.username:
        require(actor, Action.ACCOUNT_MANAGE)
    if actor.scopes is not None and not set(scopes) <= actor.scopes:
        raise InvalidRequest("scopes beyond this token's", {"scopes": [
            f"a token with {', '.join(sorted(actor.scopes))} cannot make one with more"]})
    token_id = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(16))
    secret = secrets.token_urlsafe(32)
    now = rt.now()
    with rt.uow() as uow:
        _user(uow, username)
        token = ApiToken(id=token_id, username=username, name=name.strip(), secret_hash=_digest(secret),
                         scopes=scopes, created_at=now, expires_at=now + expires_in if expires_in else None)
        uow.objects.add(token)
        _record(rt, uow, actor, AdminCause.TOKEN_CREATED, f"token:{token_id}",
                {"user": username, "name": token.name, "scopes": scopes,
                 "expires": stamp(token.expires_at) if token.expires_at else None})
        uow.commit()
        return IssuedToken(token, f"bpm_{token_id}_{secret}")


def revoke_token(rt: Runtime, actor: Actor, token_id: str) -> ApiToken:
    """Stop a token working, for good (yours, or anyone's if you are an admin)."""
    with rt.uow() as uow:
        token = uow.objects.get(ApiToken, token_id)
        if token is None or (token.username != actor.username and not allows(actor, Action.ACCOUNT_MANAGE)):
            raise NotFound(f"no token {shown(token_id)}")
        if token.revoked_at is None:
            token.revoked_at = rt.now()
            uow.objects.add(token)
            _record(rt, uow, actor, AdminCause.TOKEN_REVOKED, f"token:{token_id}", {"user": token.username})
            uow.commit()
        return token


def list_tokens(rt: Runtime, actor: Actor, username: str | None = None) -> list[ApiToken]:
    """Tokens of ``username`` (default: the actor; everyone's with None for an admin who asks for all)."""
    owner = username or actor.username
    if owner != actor.username:
        require(actor, Action.ACCOUNT_MANAGE)
    with rt.uow() as uow:
        return uow.people.tokens_of(owner)


def actor_for_token(rt: Runtime, text: str) -> Actor:
    """The actor a bearer token stands for, limited to its scopes; Unauthorized for any bad token."""
    match = TOKEN_PATTERN.match(text or "")
    if match is None:
        raise Unauthorized("malformed token")
    token_id, secret = match.groups()
    now = rt.now()
    with rt.uow() as uow:
        token = uow.credentials.token(token_id)
        if token is None or not hmac.compare_digest(token.secret_hash, _digest(secret)):
            raise Unauthorized("unknown token")
        if token.revoked_at is not None:
            raise Unauthorized("this token was revoked")
        if token.expires_at is not None and token.expires_at <= now:
            raise Unauthorized("this token has expired")
        if token.last_used_at is None or now - token.last_used_at > TOKEN_USED_EVERY:
            uow.credentials.token_used(token_id, now)
            uow.commit()
        username, scopes = token.username, frozenset(token.scopes)
    actor = rt.actor(username)  # Unauthorized if the user was disabled
    return Actor(actor.username, actor.roles, actor.groups, scopes)


# --- browser sessions --------------------------------------------------------------------------------------------

def open_session(rt: Runtime, username: str, id_token: str | None = None) -> str:
    """A new session for a user who just signed in; returns the random id for the cookie."""
    raw = secrets.token_urlsafe(32)
    now = rt.now()
    with rt.uow() as uow:
        uow.objects.add(UserSession(id=_digest(raw), username=username, created_at=now, last_seen_at=now,
                                    id_token=id_token))
        uow.commit()
    return raw


def actor_for_session(rt: Runtime, raw: str) -> Actor | None:
    """The actor of a live session (None if it ended, timed out, or its user was disabled)."""
    if not isinstance(raw, str) or not raw:
        return None
    now, settings = rt.now(), rt.settings
    key = _digest(raw)
    with rt.uow() as uow:
        row = uow.credentials.session(key)
        if row is None or row.revoked_at is not None:
            return None
        idle = now - row.last_seen_at > dt.timedelta(minutes=settings.session_idle_minutes)
        expired = now - row.created_at > dt.timedelta(hours=settings.session_max_hours)
        if idle or expired:
            uow.credentials.end_session(key, now)
            uow.commit()
            return None
        if now - row.last_seen_at > SESSION_SEEN_EVERY:
            uow.credentials.session_seen(key, now)
            uow.commit()
        username = row.username
    try:
        return rt.actor(username)
    except Unauthorized:
        return None


def close_session(rt: Runtime, raw: str) -> str | None:
    """End a session (logout); returns its SSO ID token, if any, for the provider's logout."""
    if not isinstance(raw, str) or not raw:
        return None
    with rt.uow() as uow:
        row = uow.objects.get(UserSession, _digest(raw))
        if row is None:
            return None
        row.revoked_at = row.revoked_at or rt.now()
        uow.objects.add(row)
        uow.commit()
        return row.id_token


def _end_sessions(uow: UnitOfWork, username: str, now: dt.datetime) -> None:
    for row in uow.people.open_sessions(username):
        row.revoked_at = now
        uow.objects.add(row)

