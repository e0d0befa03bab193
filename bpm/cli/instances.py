"""Running instances: move them to another version of their process."""

from __future__ import annotations

import sys

import click

from bpm.cli.common import runtime
from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.moves import move_instances, parse_mapping


@click.group()
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
    mapping, bad = parse_mapping(list(mappings))
    if bad:
        raise click.BadParameter(f"write each as OLD=NEW, not {bad[0]!r}", param_hint="--map")
    with runtime() as rt:
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
