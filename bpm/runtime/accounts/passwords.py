"""Signing in with a password: argon2id hashes, failed attempts slowed down per account and per account and
address, and the device cookie that lets a browser known to an account through its throttle."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bpm.errors import ConcurrentWrite, InvalidRequest, TooManyAttempts, Unauthorized
from bpm.runtime.actors import Actor
from bpm.runtime.runtime import Runtime
from bpm.store.models import LoginThrottle, User
from bpm.store.uow import UnitOfWork

FIRST_WAIT_SECONDS = 30
COUNT_RETRIES = 5


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


def sign_in_with_password(rt: Runtime, username: str, password: str, address: str | None,
                          known_device: bool = False) -> Actor:
    """The actor for a correct password; Unauthorized otherwise, TooManyAttempts while throttled.

    Failures are counted per account and per account and address (OWASP's advice), never per address alone:
    behind one proxy every person shares an address, and one person's mistakes must not lock out the others.
    A stranger guessing at an account slows it down for every browser but those that signed in to it before
    (``known_device``: their device cookie), so the owner is not locked out by name. Throttling is checked
    before the password, so a blocked account cannot be probed; a success clears both counts.
    """
    for attempt in range(COUNT_RETRIES):
        try:
            return _sign_in_once(rt, username, password, address, known_device)
        except ConcurrentWrite:  # two first failures of one key at once both insert its row: count again
            if attempt == COUNT_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _sign_in_once(rt: Runtime, username: str, password: str, address: str | None, known_device: bool) -> Actor:
    name = username[:100]
    account, pair = f"user:{name}", (f"pair:{name}|{address[:60]}" if address else None)
    counted = [account] + ([pair] if pair else [])
    checked = [key for key in counted if not (known_device and key == account)]
    now = rt.now()
    with rt.uow() as uow:
        _refuse_while_blocked(uow, checked, now)
        user = uow.objects.get(User, username) if isinstance(username, str) else None
        stored = user.password_hash if user is not None else None
        correct = _verify(stored or dummy_hash(), password) and stored is not None
        if not correct or user is None or not user.active:
            _count_failure(rt, uow, counted, now)
            uow.commit()
            raise Unauthorized("wrong user name or password")
        if hasher().check_needs_rehash(stored):
            user.password_hash = hash_password(password)
        user.last_login_at = now
        uow.objects.add(user)
        for key in counted:
            found = uow.objects.get(LoginThrottle, key)
            if found is not None:
                uow.objects.remove(found)
        uow.commit()
    return rt.actor(username)


def device_cookie(rt: Runtime, username: str) -> str:
    """What a browser that signed in as ``username`` keeps: it lets that browser through the account's
    throttle later (not the throttle of its own address)."""
    nonce = secrets.token_urlsafe(12)
    return f"{nonce}.{_device_mac(rt, username, nonce)}"


def known_device(rt: Runtime, cookie: str | None, username: str) -> bool:
    """Whether ``cookie`` is one this service gave a browser that signed in as ``username``."""
    nonce, _, mac = (cookie or "").partition(".")
    return bool(nonce and mac) and hmac.compare_digest(mac, _device_mac(rt, username, nonce))


def _device_mac(rt: Runtime, username: str, nonce: str) -> str:
    message = f"device|{username}|{nonce}".encode()
    return hmac.new(rt.settings.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


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
            what = "this account" if key.startswith("user:") else "this account from here"
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
