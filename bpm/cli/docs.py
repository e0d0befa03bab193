"""`bpm docs`: reference pages generated from the code, so they cannot drift from it."""

from __future__ import annotations

from pathlib import Path

import click

from bpm.engine import SystemClock
from bpm.forms import FormRegistry
from bpm.nodes import build_node_types
from bpm.runtime.node_reference import markdown


def node_reference() -> str:
    """``docs/nodes.md`` as the registry has it now (the built-in types need no forms to describe themselves)."""
    return markdown(build_node_types(FormRegistry({}), SystemClock()))


@click.group()
def docs() -> None:
    """Write reference pages generated from the code."""


@docs.command("nodes")
@click.option("--write", "target", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (docs/nodes.md) instead of printing.")
def nodes(target: Path | None) -> None:
    """The node type reference: every registered type, its data, exits and an example."""
    text = node_reference()
    if target is None:
        click.echo(text, nl=False)
    else:
        target.write_text(text)
        click.echo(f"wrote {target}")
