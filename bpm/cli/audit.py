"""The audit trail: verify the chains (or an export, offline), make an anchor, purge what retention says, make
an anchor key."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from bpm.cli.common import runtime
from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.anchors import make_anchor, new_key
from bpm.runtime.audit import audit_public_key, verify
from bpm.runtime.audit_export import verify_export
from bpm.runtime.retention import RETENTION_ACTOR, purge


@click.group()
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
    if export_file is not None:

        with open(export_file, "rb") as file:
            found = verify_export(file, Path(public_key).read_bytes() if public_key else None)
    else:
        with runtime() as rt, rt.uow() as uow:
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
    with runtime() as rt:
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
    with runtime() as rt:
        found = purge(rt, RETENTION_ACTOR, dry_run=dry_run, limit=limit)
    for one in found:
        click.echo(f"{'would purge' if dry_run else 'purged'}  {one.instance_id}  {one.definition_key} "
                   f"v{one.definition_version}, ended {one.ended_at:%Y-%m-%d}: {one.rule}")
    click.echo(f"{len(found):,} instance{'' if len(found) == 1 else 's'} {'would be' if dry_run else ''} "
               f"purged".replace("  ", " "))


@audit.command("keygen")
def audit_keygen() -> None:
    """Print a new Ed25519 signing key (PEM) for BPM_AUDIT_SIGNING_KEY; keep it out of the database's reach."""
    click.echo(new_key(), nl=False)
