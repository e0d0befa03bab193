"""API tokens: ``bpm_<id>_<secret>``, only a SHA-256 of the secret stored, shown once, limited by scopes."""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from bpm.errors import InvalidRequest, NotFound, Unauthorized, shown
from bpm.runtime.accounts.digests import digest
from bpm.runtime.accounts.people import record_change, user_named
from bpm.runtime.actors import Actor
from bpm.runtime.policy import SCOPES, Action, allows, require
from bpm.runtime.runtime import Runtime
from bpm.store.chain import stamp
from bpm.store.models import ApiToken
from bpm.store.vocabulary import AdminCause

TOKEN_PATTERN = re.compile(r"^bpm_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})$")
TOKEN_USED_EVERY = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class IssuedToken:
    """A new token: its row, and the secret text, which is shown this once and stored nowhere."""

    token: ApiToken
    text: str


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
        user_named(uow, username)
        token = ApiToken(id=token_id, username=username, name=name.strip(), secret_hash=digest(secret),
                         scopes=scopes, created_at=now, expires_at=now + expires_in if expires_in else None)
        uow.objects.add(token)
        record_change(rt, uow, actor, AdminCause.TOKEN_CREATED, f"token:{token_id}",
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
            record_change(rt, uow, actor, AdminCause.TOKEN_REVOKED, f"token:{token_id}", {"user": token.username})
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
        if token is None or not hmac.compare_digest(token.secret_hash, digest(secret)):
            raise Unauthorized("unknown token")
        if token.revoked_at is not None:
            raise Unauthorized("this token was revoked")
        if not token.owner_active:
            rt.actors.forget(token.username)  # what this process cached of them goes too
            raise Unauthorized("the person this token belongs to is disabled")
        if token.expires_at is not None and token.expires_at <= now:
            raise Unauthorized("this token has expired")
        if token.last_used_at is None or now - token.last_used_at > TOKEN_USED_EVERY:
            uow.credentials.token_used(token_id, now)
            uow.commit()
        username, scopes = token.username, frozenset(token.scopes)
    actor = rt.actor(username)  # Unauthorized if the user was disabled
    return Actor(actor.username, actor.roles, actor.groups, scopes)
