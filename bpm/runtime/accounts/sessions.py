"""Browser sessions: a random id in the signed cookie, its SHA-256 on the server, ended on logout, timeout or
when the user is disabled."""

from __future__ import annotations

import datetime as dt
import secrets

from bpm.errors import Unauthorized
from bpm.runtime.accounts.digests import digest
from bpm.runtime.actors import Actor
from bpm.runtime.runtime import Runtime
from bpm.store.models import UserSession
from bpm.store.uow import UnitOfWork

SESSION_SEEN_EVERY = dt.timedelta(seconds=60)  # last_seen_at is written at most this often


def open_session(rt: Runtime, username: str, id_token: str | None = None) -> str:
    """A new session for a user who just signed in; returns the random id for the cookie."""
    raw = secrets.token_urlsafe(32)
    now = rt.now()
    with rt.uow() as uow:
        uow.objects.add(UserSession(id=digest(raw), username=username, created_at=now, last_seen_at=now,
                                              id_token=id_token))
        uow.commit()
    return raw


def actor_for_session(rt: Runtime, raw: str) -> Actor | None:
    """The actor of a live session (None if it ended, timed out, or its user was disabled)."""
    if not isinstance(raw, str) or not raw:
        return None
    now, settings = rt.now(), rt.settings
    key = digest(raw)
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
        row = uow.objects.get(UserSession, digest(raw))
        if row is None:
            return None
        row.revoked_at = row.revoked_at or rt.now()
        uow.objects.add(row)
        uow.commit()
        return row.id_token


def end_sessions(uow: UnitOfWork, username: str, now: dt.datetime) -> None:
    for row in uow.people.open_sessions(username):
        row.revoked_at = now
        uow.objects.add(row)
