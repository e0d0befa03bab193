"""The `bpm` command: run the service, migrate the database, manage definitions."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from bpm.config import Role, Settings


@contextmanager
def _explained() -> Iterator[None]:
    """Turn our own errors (a broken form, an invalid demo process) into one clear line, not a traceback."""
    from bpm.errors import BpmError

    try:
        yield
    except BpmError as exc:
        fields = getattr(exc, "errors", None)  # InvalidRequest: say what is wrong with which part
        said = "; ".join(f"{name}: {m}" for name, messages in fields.items() for m in messages) if fields else ""
        raise click.ClickException(f"{exc}: {said}" if said else str(exc)) from None


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.version_option(package_name="refluxo-bpm")
def main() -> None:
    """Refluxo BPM: business processes with human tasks."""


@main.command()
@click.option("--host", default=None, help="interface to listen on (default 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port (default 5000)")
@click.option("--demo/--no-demo", default=True, show_default=True, help="load demo people and example processes")
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="fire timers, escalations and retries in this process too")
def run(host: str | None, port: int | None, demo: bool, worker: bool) -> None:
    """Start a development server: SQLite by default, migrations applied, demo content loaded."""

    from bpm.app import create_app
    from bpm.runtime.demo import load_demo, people_summary
    from bpm.store.migrate import upgrade

    dev_identity = None if Settings.chosen("dev_identity") else True
    settings = _settings(host=host, port=port, dev_identity=dev_identity)
    with _explained():
        upgrade(settings.database_url)
        app = create_app(settings)
        loaded = load_demo(app.extensions["bpm"]) if demo else []
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"Refluxo BPM on {base}  (database: {settings.database_url})")
    if loaded:
        click.echo(f"  processes: {', '.join(loaded)}")
        click.echo(f"  demo users: {people_summary()}  (anyone can be named manager in a form)")
        click.echo("  passwords:  the user name followed by -demo (ann / ann-demo); sign in at "
                   f"{base}/login")
    click.echo(f"  API docs:   {base}/api/docs")
    click.echo(f"  health:     {base}/api/health")
    if settings.dev_identity:
        click.echo(f"  try:        curl -H 'X-BPM-User: carol' {base}/api/tasks   (development identity)")
    if worker:
        from bpm.scheduler import Worker

        Worker(app.extensions["bpm"]).start()
        click.echo("  worker:     timers, escalations and retries fire in this process")
    app.run(host=settings.host, port=settings.port, threaded=True, use_reloader=False)


@main.command()
@click.option("--interval", type=float, default=1.0, show_default=True, help="seconds between looks for due jobs")
@click.option("--once", is_flag=True, help="fire what is due now, then exit (cron, tests)")
@click.option("--lease", type=float, default=60.0, show_default=True,
              help="seconds a claimed job stays this worker's (renewed while it works); then another takes it")
@click.option("--batch", type=int, default=100, show_default=True, help="jobs claimed at a time")
def worker(interval: float, once: bool, lease: float, batch: int) -> None:
    """Fire timers, escalations, retries and continuations as they fall due (run one or more beside `bpm serve`)."""
    import logging

    from bpm.runtime.runtime import Runtime
    from bpm.scheduler import Worker

    settings = _settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with _explained():
        import datetime as dt

        from bpm.engine.clock import SystemClock

        rt = Runtime.build(settings, SystemClock())
        firing = Worker(rt, batch=batch, lease=dt.timedelta(seconds=lease))
        if once:
            said = firing.tick()
            click.echo(", ".join(f"{n} {what}" for what, n in sorted(said.items())) or "nothing was due")
            rt.close()
            return
        click.echo(f"worker {firing.name} on {settings.database_url.split('@')[-1]}, every {interval:g} s")
        try:
            firing.run(interval)
        finally:
            rt.close()


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=None, help="worker processes (default BPM_WORKERS or one per CPU)")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Start the production server (granian, WSGI); run `bpm db upgrade` first."""

    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    from bpm.app import create_app

    settings = _settings(host=host, port=port, workers=workers)
    with _explained():
        create_app(settings).extensions["bpm"].close()  # fail here, clearly, before the workers start
    # Each worker builds its app from the environment (bpm.app:create_app); they must share one
    # signing key, or a session cookie set by one worker would be refused by the next.
    settings.hand_down("secret_key")
    Granian("bpm.app:create_app", factory=True, interface=Interfaces.WSGI, address=settings.host,
            port=settings.port, workers=settings.workers, blocking_threads=settings.threads,
            respawn_failed_workers=True, workers_kill_timeout=30, log_access=settings.access_log,
            log_level=LogLevels(settings.log_level.lower())).serve()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from bpm.store.migrate import current_revision, upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    click.echo(f"database at revision {current_revision(settings.database_url)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Take the database back to REVISION (e.g. the one the previous release expects; "base" empties it)."""
    from bpm.store.migrate import current_revision, downgrade

    settings = _settings()
    downgrade(settings.database_url, revision)
    click.echo(f"database at revision {current_revision(settings.database_url)}")


@db.command("current")
def db_current() -> None:
    """Show the database's revision; exit 1 unless it is the one this code expects (a deploy check)."""
    from bpm.store.migrate import current_revision, head_revision

    current, head = current_revision(_settings().database_url), head_revision()
    if current == head:
        click.echo(f"database at revision {current} (up to date)")
        return
    click.echo(f"database at revision {current or 'none'}; this code expects {head}: run `bpm db upgrade`", err=True)
    sys.exit(1)


@main.group()
def definitions() -> None:
    """Process definitions."""


@definitions.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def definitions_import(files: tuple[Path, ...]) -> None:
    """Validate and publish definition FILES (unchanged ones are skipped)."""
    from bpm.engine import SystemClock
    from bpm.errors import DefinitionError
    from bpm.runtime import SYSTEM_ACTOR, Runtime
    from bpm.runtime.definitions import import_definition, validate

    rt = Runtime.build(_settings(), SystemClock())
    failed = False
    for path in files:
        try:
            body = json.loads(path.read_text())
            stored = import_definition(rt, SYSTEM_ACTOR, body)
            click.echo(f"{path}: {stored.key} v{stored.version} {stored.status}")
            for problem in validate(rt, body).problems:  # only warnings are left once it is published
                click.echo(f"  warning: {problem.path}: {problem.message}", err=True)
        except ValueError as exc:
            click.echo(f"{path}: not valid JSON: {exc}", err=True)
            failed = True
        except DefinitionError as exc:
            click.echo(f"{path}: invalid", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem.path}: {problem.message}", err=True)
            failed = True
    rt.close()
    if failed:
        sys.exit(1)


@definitions.command("validate")
@click.option("--portable", is_flag=True,
              help="Also fail when an expression may mean something else in Refluxo's TypeScript engine.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def definitions_validate(files: tuple[Path, ...], portable: bool) -> None:
    """Check definition FILES without saving them; exit 1 if one has an error."""
    from bpm.engine import SystemClock
    from bpm.engine.validation import portability_problems
    from bpm.runtime import Runtime
    from bpm.runtime.definitions import check

    rt = Runtime.build(_settings(), SystemClock())
    failed = False
    for path in files:
        try:
            body = json.loads(path.read_text())
        except ValueError as exc:
            click.echo(f"{path}: not valid JSON: {exc}", err=True)
            failed = True
            continue
        problems = check(rt, body)
        gate = [p for p in problems if p.severity == "error"]
        if portable:  # check() shows them as warnings; here they fail
            gate += portability_problems(body, rt.node_types)
        click.echo(f"{path}: {'invalid' if gate else 'valid'}")
        for problem in problems:
            click.echo(f"  {problem.severity}: {problem.path}: {problem.message}", err=True)
        failed = failed or bool(gate)
    rt.close()
    if failed:
        sys.exit(1)


@definitions.command("list")
def definitions_list() -> None:
    """Show the newest version of every process."""
    from bpm.engine import SystemClock
    from bpm.runtime import SYSTEM_ACTOR, Runtime
    from bpm.runtime.definitions import list_definitions

    rt = Runtime.build(_settings(), SystemClock())
    with rt.uow() as uow:
        for row in list_definitions(uow, SYSTEM_ACTOR):
            click.echo(f"{row.key:<30} v{row.version:<4} {row.status:<10} {row.name}")
    rt.close()


@contextmanager
def _runtime() -> Iterator[Any]:
    """A runtime for one command: our errors said in one line, its connections closed whatever happens."""
    from bpm.engine import SystemClock
    from bpm.runtime import Runtime

    rt = Runtime.build(_settings(), SystemClock())
    try:
        with _explained():
            yield rt
    finally:
        rt.close()


def _password(from_stdin: bool, prompt: str = "Password") -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


@main.group()
def instances() -> None:
    """Running process instances."""


@instances.command("migrate")
@click.argument("key")
@click.option("--from", "from_version", type=int, required=True, help="the version they run now")
@click.option("--to", "to_version", type=int, required=True, help="the published version to move them to")
@click.option("--map", "mappings", multiple=True, metavar="OLD=NEW",
              help="a node that changed id (repeatable)")
@click.option("--instance", "instance_ids", multiple=True, help="only this instance (repeatable; default: all)")
@click.option("--dry-run", is_flag=True, help="say who would move and who cannot, and move none")
def instances_migrate(key: str, from_version: int, to_version: int, mappings: tuple[str, ...],
                      instance_ids: tuple[str, ...], dry_run: bool) -> None:
    """Move the unfinished instances of KEY to another version; exit 1 if one could not move."""
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.moves import move_instances, parse_mapping

    mapping, bad = parse_mapping(list(mappings))
    if bad:
        raise click.BadParameter(f"write each as OLD=NEW, not {bad[0]!r}", param_hint="--map")
    with _runtime() as rt:
        plan = move_instances(rt, SYSTEM_ACTOR, key, from_version, to_version, mapping,
                              list(instance_ids) or None, dry_run=dry_run)
    verb = "would move" if dry_run else "moved"
    for moved in plan.moved:
        again = f" (made again: {', '.join(moved.recreated)})" if moved.recreated else ""
        click.echo(f"{moved.instance_id} {verb}: {', '.join(moved.nodes)} -> {', '.join(moved.to)}{again}")
    for refused in plan.refused:
        click.echo(f"{refused.instance_id} cannot move: {refused.reason}", err=True)
    click.echo(f"{len(plan.moved)} {verb}, {len(plan.refused)} cannot move")
    if plan.refused:
        sys.exit(1)


@main.group()
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
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import create_user

    password = None if no_password else _password(password_stdin)
    with _runtime() as rt:
        create_user(rt, SYSTEM_ACTOR, username, display_name, email, password, roles or (Role.EMPLOYEE,), groups)
    click.echo(f"user {username} created ({', '.join(roles or ('employee',))})")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
def users_passwd(username: str, password_stdin: bool) -> None:
    """Set a user's password (their open sessions end)."""
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import set_password

    password = _password(password_stdin, "New password")
    with _runtime() as rt:
        set_password(rt, SYSTEM_ACTOR, username, password)
    click.echo(f"password of {username} changed")


@users.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="enable the user again instead")
def users_disable(username: str, enable: bool) -> None:
    """Stop a user signing in: their sessions end and their tokens stop working."""
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import set_active

    with _runtime() as rt:
        set_active(rt, SYSTEM_ACTOR, username, enable)
    click.echo(f"user {username} {'enabled' if enable else 'disabled'}")


@users.command("list")
def users_list() -> None:
    """Show every user with roles, groups and how they sign in."""
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import list_users

    with _runtime() as rt:
        found = list_users(rt, SYSTEM_ACTOR)
    for user, groups in found:
        how = ", ".join(k for k, v in (("password", user.password_hash), ("sso", user.oidc_subject)) if v) or "-"
        state = "" if user.active else "  (disabled)"
        click.echo(f"{user.username:<20} {','.join(user.roles):<28} {','.join(groups) or '-':<28} {how}{state}")


@main.group()
def groups() -> None:
    """Groups, which tasks are offered to."""


@groups.command("create")
@click.argument("name")
@click.option("--name", "display_name", help="display name")
def groups_create(name: str, display_name: str | None) -> None:
    """Create a group."""
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import create_group

    with _runtime() as rt:
        create_group(rt, SYSTEM_ACTOR, name, display_name)
    click.echo(f"group {name} created")


@groups.command("add")
@click.argument("group")
@click.argument("usernames", nargs=-1, required=True)
def groups_add(group: str, usernames: tuple[str, ...]) -> None:
    """Put users in a group."""
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import add_member

    with _runtime() as rt:
        for username in usernames:
            add_member(rt, SYSTEM_ACTOR, group, username)
    click.echo(f"{', '.join(usernames)} in {group}")


@main.group()
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
    import datetime as dt

    import isodate

    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import create_token

    try:
        lifetime = None if expires_in == "never" else isodate.parse_duration(expires_in)
    except (isodate.ISO8601Error, ValueError):
        raise click.BadParameter("an ISO 8601 duration such as P30D or PT12H, or 'never'",
                                 param_hint="--expires-in") from None
    if lifetime is not None and not isinstance(lifetime, dt.timedelta):  # months or years: from now
        lifetime = lifetime.totimedelta(start=dt.datetime.now(dt.UTC))
    with _runtime() as rt:
        issued = create_token(rt, SYSTEM_ACTOR, username, name, scopes or ("read", "write"), lifetime)
    click.echo(issued.text)
    expiry = issued.token.expires_at.isoformat() if issued.token.expires_at else "never"
    click.echo(f"token {issued.token.id} for {username} ({', '.join(issued.token.scopes)}; expires {expiry}); "
               "it is not shown again", err=True)


@tokens.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id (the part after 'bpm_')."""
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import revoke_token

    with _runtime() as rt:
        revoke_token(rt, SYSTEM_ACTOR, token_id)
    click.echo(f"token {token_id} revoked")


@tokens.command("list")
@click.argument("username")
def tokens_list(username: str) -> None:
    """Show a user's tokens (never their secrets)."""
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import list_tokens

    with _runtime() as rt:
        for token in list_tokens(rt, SYSTEM_ACTOR, username):
            state = "revoked" if token.revoked_at else "active"
            expiry = token.expires_at.isoformat() if token.expires_at else "never"
            click.echo(f"{token.id}  {token.name:<24} {','.join(token.scopes):<18} expires {expiry}  {state}")


@main.group()
def audit() -> None:
    """Check the execution history (docs/audit.md)."""


@audit.command("verify")
@click.option("--instance", "instance_id", help="only this instance's chain")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="only the chains of instances with an event since this day (UTC); the admin chain always")
@click.option("--file", "export_file", type=click.Path(exists=True, dir_okay=False),
              help="check a JSON export offline instead of the database")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False),
              help="with --file: the audit public key (PEM) the export's anchors must be signed with")
def audit_verify(instance_id: str | None, since: dt.datetime | None, export_file: str | None,
                 public_key: str | None) -> None:
    """Recompute the history's hash chains; exit 0 when intact, 1 naming the first broken entry of each chain."""
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.audit import audit_public_key, verify

    if export_file is not None:
        from bpm.runtime.audit_export import verify_export

        with open(export_file, "rb") as file:
            found = verify_export(file, Path(public_key).read_bytes() if public_key else None)
    else:
        with _runtime() as rt, rt.uow() as uow:
            found = verify(uow, SYSTEM_ACTOR, instance_id, audit_public_key(rt.settings.audit_signing_key),
                           since=since.replace(tzinfo=dt.UTC) if since is not None else None,
                           anchor_file=rt.settings.audit_anchor_file)
    for broken in found.broken:
        where = f"position {broken.position}" if broken.position is not None else f"entry {broken.entry_id}"
        click.echo(f"BROKEN  chain {broken.chain}, {where}: {broken.problem}")
    click.echo(f"{'intact' if found.intact else 'NOT intact'}: {found.chains:,} chains, {found.entries:,} entries "
               f"checked{'' if found.intact else f', {len(found.broken)} broken'}")
    sys.exit(0 if found.intact else 1)


@audit.command("anchor")
def audit_anchor() -> None:
    """Anchor every chain's head now: a signed Merkle root (needs BPM_AUDIT_SIGNING_KEY)."""
    from bpm.runtime.anchors import make_anchor

    with _runtime() as rt:
        anchor = make_anchor(rt)
    if anchor is None:
        if not rt.settings.audit_signing_key:
            raise click.ClickException("BPM_AUDIT_SIGNING_KEY is not set: make one with `bpm audit keygen`")
        click.echo("nothing to anchor: no chain moved since the last anchor")
        return
    click.echo(f"anchor {anchor.id}: {len(anchor.heads):,} chains moved, root {anchor.root}")


@audit.command("purge")
@click.option("--dry-run", is_flag=True, help="only say what would go")
@click.option("--limit", type=click.IntRange(min=1), help="at most this many instances")
def audit_purge(dry_run: bool, limit: int | None) -> None:
    """Remove finished instances' data whose historyTimeToLive ran out (legal holds kept); tombstones stay."""
    from bpm.runtime.retention import RETENTION_ACTOR, purge

    with _runtime() as rt:
        found = purge(rt, RETENTION_ACTOR, dry_run=dry_run, limit=limit)
    for one in found:
        click.echo(f"{'would purge' if dry_run else 'purged'}  {one.instance_id}  {one.definition_key} "
                   f"v{one.definition_version}, ended {one.ended_at:%Y-%m-%d}: {one.rule}")
    click.echo(f"{len(found):,} instance{'' if len(found) == 1 else 's'} {'would be' if dry_run else ''} "
               f"purged".replace("  ", " "))


@audit.command("keygen")
def audit_keygen() -> None:
    """Print a new Ed25519 signing key (PEM) for BPM_AUDIT_SIGNING_KEY; keep it out of the database's reach."""
    from bpm.runtime.anchors import new_key

    click.echo(new_key(), nl=False)


if __name__ == "__main__":
    main()
