"""The database schema: upgrade, downgrade, and where it stands (Alembic)."""

from __future__ import annotations

import datetime as dt
import sys

import click

from bpm.cli.common import settings_from_env
from bpm.store.db import make_engine
from bpm.store.migrate import current_revision, downgrade, head_revision, upgrade
from bpm.store.partitions import MONTHS_AHEAD, listing, make_months


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


@db.command("partitions")
@click.option("--ahead", default=MONTHS_AHEAD, show_default=True, type=click.IntRange(0, 120),
              help="how many months after this one to make")
@click.option("--list", "show", is_flag=True, help="only list the partitions and the rows each holds (estimated)")
def db_partitions(ahead: int, show: bool) -> None:
    """PostgreSQL: make the history's and the admin chain's monthly partitions ahead (the worker does it hourly;
    run this from cron as the tables' owner if the service's role may not create tables); list them."""
    settings = settings_from_env()
    engine = make_engine(settings.database_url)
    try:
        if engine.dialect.name != "postgresql":
            click.echo("SQLite keeps the history in one table: nothing to partition")
            return
        if not show:
            done = make_months(engine, dt.datetime.now(dt.UTC).date(), ahead)
            for name in done.made:
                click.echo(f"made {name}")
            for name, reason in done.skipped:
                click.echo(f"not made {name}: {reason}", err=True)
        for row in listing(engine):
            click.echo(f"{row.name:<28} {row.bounds:<72} ~{row.rows:,} rows")
        if not show and done.skipped:
            sys.exit(1)
    finally:
        engine.dispose()
