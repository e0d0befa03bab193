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

from bpm.runtime.accounts.passwords import device_cookie, hash_password, known_device, sign_in_with_password
from bpm.runtime.accounts.people import add_member, create_group, create_user, list_users, set_active, set_password
from bpm.runtime.accounts.sessions import actor_for_session, close_session, open_session
from bpm.runtime.accounts.sso import actor_for_sso_subject, sign_in_with_sso
from bpm.runtime.accounts.tokens import IssuedToken, actor_for_token, create_token, list_tokens, revoke_token

__all__ = [
    "IssuedToken",
    "actor_for_session",
    "actor_for_sso_subject",
    "actor_for_token",
    "add_member",
    "close_session",
    "create_group",
    "create_token",
    "create_user",
    "device_cookie",
    "hash_password",
    "known_device",
    "list_tokens",
    "list_users",
    "open_session",
    "revoke_token",
    "set_active",
    "set_password",
    "sign_in_with_password",
    "sign_in_with_sso",
]
