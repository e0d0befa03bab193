"""Signing in with a password: argon2id hashes, and failed attempts slowed down per account and address."""

from __future__ import annotations

import datetime as dt
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bpm.errors import InvalidRequest, TooManyAttempts, Unauthorized
from bpm.runtime.actors import Actor
from bpm.runtime.runtime import Runtime
from bpm.store.models import LoginThrottle, User
from bpm.store.uow import UnitOfWork

FIRST_WAIT_SECONDS = 30


@cache
def hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def dummy_hash() -> str:
    return hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``."""
    return hasher().hash(password)


def check_password(rt: Runtime, password: str | None) -> str:
    if not isinstance(password, str) or len(password) < rt.settings.password_min_length:
        raise InvalidRequest("password too short", {
            "password": [f"at least {rt.settings.password_min_length} characters"]})
    if len(password) > 1000:
        raise InvalidRequest("password too long", {"password": ["at most 1000 characters"]})
    return password


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
        correct = _verify(stored or dummy_hash(), password) and stored is not None
        if not correct or user is None or not user.active:
            _count_failure(rt, uow, keys, now)
            uow.commit()
            raise Unauthorized("wrong user name or password")
        if hasher().check_needs_rehash(stored):
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
        return hasher().verify(hashed, password if isinstance(password, str) else "")
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
