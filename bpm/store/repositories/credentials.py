"""API tokens and browser sessions as every request reads them: one indexed row by id, no ORM object.

Identifying the caller runs before every request, so these reads and the
occasional "last used" write are DirectStatements (bench/access.py measures
what a request pays for each way in).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import bindparam, select, update

from bpm.store.direct import DirectStatement
from bpm.store.models import ApiToken, User, UserSession

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

TOKENS = ApiToken.__table__  # type: ignore[attr-defined]
USERS = User.__table__  # type: ignore[attr-defined]
SESSIONS = UserSession.__table__  # type: ignore[attr-defined]

# The owner's being active read with the token, in the same statement: disabling someone stops their tokens at
# once in every server process, whatever each has cached of them.
_TOKEN = DirectStatement(select(TOKENS.c.username, TOKENS.c.secret_hash, TOKENS.c.scopes, TOKENS.c.expires_at,
                                TOKENS.c.revoked_at, TOKENS.c.last_used_at, USERS.c.active)
                         .join(USERS, USERS.c.username == TOKENS.c.username)
                         .where(TOKENS.c.id == bindparam("id")))
_TOKEN_USED = DirectStatement(update(TOKENS).where(TOKENS.c.id == bindparam("key"))
                              .values(last_used_at=bindparam("at")))
_SESSION = DirectStatement(select(SESSIONS.c.username, SESSIONS.c.created_at, SESSIONS.c.last_seen_at,
                                  SESSIONS.c.revoked_at).where(SESSIONS.c.id == bindparam("id")))
_SESSION_SEEN = DirectStatement(update(SESSIONS).where(SESSIONS.c.id == bindparam("key"))
                                .values(last_seen_at=bindparam("at")))
_SESSION_ENDED = DirectStatement(update(SESSIONS).where(SESSIONS.c.id == bindparam("key"),
                                                        SESSIONS.c.revoked_at.is_(None))
                                 .values(revoked_at=bindparam("at")))


class TokenRow(NamedTuple):
    username: str
    secret_hash: str
    scopes: list[str]
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    owner_active: bool


class SessionRow(NamedTuple):
    username: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    revoked_at: dt.datetime | None


class CredentialRepository:
    """The ``api_token`` and ``user_session`` tables as identification reads them."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def token(self, token_id: str) -> TokenRow | None:
        """The token with this public id, or None."""
        row = _TOKEN.first(self._uow, {"id": token_id})
        return None if row is None else TokenRow(*row)

    def token_used(self, token_id: str, at: dt.datetime) -> None:
        """Queue: the token was used at ``at``."""
        self._uow.write(_TOKEN_USED, {"key": token_id, "at": at})

    def session(self, session_hash: str) -> SessionRow | None:
        """The session whose id hashes to ``session_hash``, or None."""
        row = _SESSION.first(self._uow, {"id": session_hash})
        return None if row is None else SessionRow(*row)

    def session_seen(self, session_hash: str, at: dt.datetime) -> None:
        """Queue: the session was used at ``at``."""
        self._uow.write(_SESSION_SEEN, {"key": session_hash, "at": at})

    def end_session(self, session_hash: str, at: dt.datetime) -> None:
        """Queue: the session ended at ``at`` (if it had not already)."""
        self._uow.write(_SESSION_ENDED, {"key": session_hash, "at": at})
