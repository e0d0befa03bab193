"""The database schema: upgrade, downgrade, and where it stands (Alembic)."""

from __future__ import annotations

import sys

import click

from bpm.cli.common import settings_from_env
from bpm.store.migrate import current_revision, downgrade, head_revision, upgrade


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    settings = settings_from_env()
    upgrade(settings.database_url, revision)
    click.echo(f"database at revision {current_revision(settings.database_url)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Take the database back to REVISION (e.g. the one the previous release expects; "base" empties it)."""
    settings = settings_from_env()
    downgrade(settings.database_url, revision)
    click.echo(f"database at revision {current_revision(settings.database_url)}")


@db.command("current")
def db_current() -> None:
    """Show the database's revision; exit 1 unless it is the one this code expects (a deploy check)."""
    current, head = current_revision(settings_from_env().database_url), head_revision()
    if current == head:
        click.echo(f"database at revision {current} (up to date)")
        return
    click.echo(f"database at revision {current or 'none'}; this code expects {head}: run `bpm db upgrade`", err=True)
    sys.exit(1)
