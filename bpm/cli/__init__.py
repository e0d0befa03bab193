"""The `bpm` command: run the service, migrate the database, manage definitions, people and the audit trail.

One module per group of commands (``server``, ``database``, ``definitions``, ``forms``,
``instances``, ``people``, ``audit``); what they share is in ``common``.
"""

from __future__ import annotations

import click

from bpm.cli import audit, database, definitions, docs, forms, instances, people, server


@click.group()
@click.version_option(package_name="refluxo-bpm")
def main() -> None:
    """Refluxo BPM: business processes with human tasks."""


for command in (server.run, server.worker, server.serve, database.db, definitions.definitions, forms.forms,
                instances.instances,
                people.users, people.groups, people.tokens, audit.audit, docs.docs):
    main.add_command(command)
