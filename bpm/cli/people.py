"""People and their credentials: users, groups, API tokens."""

from __future__ import annotations

import datetime as dt

import click
import isodate

from bpm.cli.common import read_password, runtime
from bpm.config import Role
from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.accounts import (
    add_member,
    create_group,
    create_token,
    create_user,
    list_tokens,
    list_users,
    revoke_token,
    set_active,
    set_password,
)


@click.group()
def users() -> None:
    """Local user accounts (SSO users are created at their first sign-in)."""


@users.command("create")
@click.argument("username")
@click.option("--name", "display_name", help="display name (default: the user name)")
@click.option("--email")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@click.option("--no-password", is_flag=True, help="no local password (SSO or tokens only)")
@click.option("--group", "groups", multiple=True, help="a group to join (repeatable; it must exist)")
@click.option("--role", "roles", multiple=True, help="employee, designer, auditor, admin (repeatable; "
                                                      "default employee)")
def users_create(username: str, display_name: str | None, email: str | None, password_stdin: bool,
                 no_password: bool, groups: tuple[str, ...], roles: tuple[str, ...]) -> None:
    """Create a user; the first admin of a new installation is made this way."""
    password = None if no_password else read_password(password_stdin)
    with runtime() as rt:
        create_user(rt, SYSTEM_ACTOR, username, display_name, email, password, roles or (Role.EMPLOYEE,), groups)
    click.echo(f"user {username} created ({', '.join(roles or ('employee',))})")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
def users_passwd(username: str, password_stdin: bool) -> None:
    """Set a user's password (their open sessions end)."""
    password = read_password(password_stdin, "New password")
    with runtime() as rt:
        set_password(rt, SYSTEM_ACTOR, username, password)
    click.echo(f"password of {username} changed")


@users.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="enable the user again instead")
def users_disable(username: str, enable: bool) -> None:
    """Stop a user signing in: their sessions end and their tokens stop working."""
    with runtime() as rt:
        set_active(rt, SYSTEM_ACTOR, username, enable)
    click.echo(f"user {username} {'enabled' if enable else 'disabled'}")


@users.command("list")
def users_list() -> None:
    """Show every user with roles, groups and how they sign in."""
    with runtime() as rt:
        found = list_users(rt, SYSTEM_ACTOR)
    for user, groups in found:
        how = ", ".join(k for k, v in (("password", user.password_hash), ("sso", user.oidc_subject)) if v) or "-"
        state = "" if user.active else "  (disabled)"
        click.echo(f"{user.username:<20} {','.join(user.roles):<28} {','.join(groups) or '-':<28} {how}{state}")


@click.group()
def groups() -> None:
    """Groups, which tasks are offered to."""


@groups.command("create")
@click.argument("name")
@click.option("--name", "display_name", help="display name")
def groups_create(name: str, display_name: str | None) -> None:
    """Create a group."""
    with runtime() as rt:
        create_group(rt, SYSTEM_ACTOR, name, display_name)
    click.echo(f"group {name} created")


@groups.command("add")
@click.argument("group")
@click.argument("usernames", nargs=-1, required=True)
def groups_add(group: str, usernames: tuple[str, ...]) -> None:
    """Put users in a group."""
    with runtime() as rt:
        for username in usernames:
            add_member(rt, SYSTEM_ACTOR, group, username)
    click.echo(f"{', '.join(usernames)} in {group}")


@click.group()
def tokens() -> None:
    """API tokens (bearer tokens for programs)."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="what the token is for")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(["read", "write", "admin"]),
              help="repeatable (default: read and write)")
@click.option("--expires-in", default="P30D", show_default=True, help="ISO 8601 duration, or 'never'")
def tokens_create(username: str, name: str, scopes: tuple[str, ...], expires_in: str) -> None:
    """Create a token for USERNAME and print it (the only time it is shown)."""

    try:
        lifetime = None if expires_in == "never" else isodate.parse_duration(expires_in)
    except (isodate.ISO8601Error, ValueError):
        raise click.BadParameter("an ISO 8601 duration such as P30D or PT12H, or 'never'",
                                 param_hint="--expires-in") from None
    if lifetime is not None and not isinstance(lifetime, dt.timedelta):  # months or years: from now
        lifetime = lifetime.totimedelta(start=dt.datetime.now(dt.UTC))
    with runtime() as rt:
        issued = create_token(rt, SYSTEM_ACTOR, username, name, scopes or ("read", "write"), lifetime)
    click.echo(issued.text)
    expiry = issued.token.expires_at.isoformat() if issued.token.expires_at else "never"
    click.echo(f"token {issued.token.id} for {username} ({', '.join(issued.token.scopes)}; expires {expiry}); "
               "it is not shown again", err=True)


@tokens.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id (the part after 'bpm_')."""
    with runtime() as rt:
        revoke_token(rt, SYSTEM_ACTOR, token_id)
    click.echo(f"token {token_id} revoked")


@tokens.command("list")
@click.argument("username")
def tokens_list(username: str) -> None:
    """Show a user's tokens (never their secrets)."""
    with runtime() as rt:
        for token in list_tokens(rt, SYSTEM_ACTOR, username):
            state = "revoked" if token.revoked_at else "active"
            expiry = token.expires_at.isoformat() if token.expires_at else "never"
            click.echo(f"{token.id}  {token.name:<24} {','.join(token.scopes):<18} expires {expiry}  {state}")
