"""Forms from files: import (a new published version when a file changed), list."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bpm.cli.common import settings_from_env
from bpm.engine import SystemClock
from bpm.errors import InvalidRequest
from bpm.forms import FormsBroken
from bpm.runtime import SYSTEM_ACTOR, Runtime, form_versions


@click.group()
def forms() -> None:
    """Forms (versioned like process definitions; forms/*.json are the seed)."""


@forms.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def forms_import(files: tuple[Path, ...]) -> None:
    """Publish form FILES as new versions (unchanged ones are skipped); exit 1 if one is broken."""
    rt = Runtime.build(settings_from_env(), SystemClock())
    failed = False
    for path in files:
        try:
            for said in form_versions.import_files(rt, SYSTEM_ACTOR, [path]):
                click.echo(f"{path}: {said}")
        except ValueError as exc:
            click.echo(f"{path}: not valid JSON: {exc}", err=True)
            failed = True
        except (FormsBroken, InvalidRequest) as exc:
            click.echo(f"{path}: invalid: {exc}", err=True)
            for where, messages in getattr(exc, "errors", {}).items():
                click.echo(f"  {where}: {'; '.join(messages)}", err=True)
            failed = True
    rt.close()
    if failed:
        sys.exit(1)


@forms.command("list")
def forms_list() -> None:
    """List every form: id, the version processes now pin, the newest version and its status."""
    rt = Runtime.build(settings_from_env(), SystemClock())
    with rt.uow() as uow:
        for line in form_versions.catalogue(rt, uow, SYSTEM_ACTOR):
            click.echo(f"{line.form_id}\tv{line.published or '-'}\t(newest v{line.newest}, {line.status})\t"
                       f"{line.title}")
    rt.close()
