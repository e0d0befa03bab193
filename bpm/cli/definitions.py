"""Process definitions from files: import, validate (with Refluxo portability), list."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bpm.cli.common import settings_from_env
from bpm.engine import SystemClock
from bpm.engine.validation import portability_problems
from bpm.errors import DefinitionError
from bpm.runtime import SYSTEM_ACTOR, Runtime
from bpm.runtime.definition_checks import check, validate
from bpm.runtime.definitions import import_definition, list_definitions


@click.group()
def definitions() -> None:
    """Process definitions."""


@definitions.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def definitions_import(files: tuple[Path, ...]) -> None:
    """Validate and publish definition FILES (unchanged ones are skipped)."""
    rt = Runtime.build(settings_from_env(), SystemClock())
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
    rt = Runtime.build(settings_from_env(), SystemClock())
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
    rt = Runtime.build(settings_from_env(), SystemClock())
    with rt.uow() as uow:
        for row in list_definitions(uow, SYSTEM_ACTOR):
            click.echo(f"{row.key:<30} v{row.version:<4} {row.status:<10} {row.name}")
    rt.close()
