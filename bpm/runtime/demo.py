"""Demo content for `bpm run`: people, groups and the example processes, loaded idempotently."""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

from bpm.runtime import definitions, form_versions
from bpm.runtime.accounts import hash_password
from bpm.runtime.actors import SYSTEM_ACTOR
from bpm.runtime.runtime import Runtime
from bpm.store.models import Group, Membership, User

logger = logging.getLogger(__name__)

GROUPS = {"finance": "Finance", "department-heads": "Department heads", "editors": "Editors", "hr": "HR"}
USERS = [
    # username, display name, roles, groups
    ("ann", "Ann Employee", ["employee"], []),
    ("bob", "Bob Manager", ["employee"], []),
    ("carol", "Carol Finance", ["employee"], ["finance"]),
    ("frank", "Frank Finance", ["employee"], ["finance"]),
    ("dave", "Dave Head", ["employee"], ["department-heads"]),
    ("erin", "Erin Editor", ["employee"], ["editors"]),
    ("hana", "Hana HR", ["employee"], ["hr"]),
    ("dana", "Dana Designer", ["employee", "designer"], []),
    ("audrey", "Audrey Auditor", ["auditor"], []),
    ("admin", "Administrator", ["admin"], []),
]


def demo_password(username: str) -> str:
    """The documented password of a demo user (`bpm run` prints the rule): never use these in production."""
    return f"{username}-demo"


@cache
def _demo_hash(username: str) -> str:
    return hash_password(demo_password(username))  # argon2 is slow by design: hash each once per process


def people_summary() -> str:
    """The demo people with their groups and extra roles, as `bpm run` prints them for a newcomer."""
    def who(username: str, roles: list[str], groups: list[str]) -> str:
        extra = [*groups, *(role for role in roles if role != "employee")]
        return f"{username} ({', '.join(extra)})" if extra else username

    return ", ".join(who(username, roles, groups) for username, _, roles, groups in USERS)


def load_people(rt: Runtime) -> None:
    """Create the demo users (with their demo passwords) and groups that do not exist yet."""
    with rt.uow() as uow:
        now = rt.now()
        for name, display in GROUPS.items():
            if uow.objects.get(Group, name) is None:
                uow.objects.add(Group(name=name, display_name=display))
        for username, display, roles, groups in USERS:
            user = uow.objects.get(User, username)
            if user is None:
                uow.objects.add(User(username=username, display_name=display, email=f"{username}@example.com",
                                 roles=roles, created_at=now, password_hash=_demo_hash(username)))
                uow.flush()
                for group in groups:
                    uow.objects.add(Membership(username=username, group_name=group))
            elif user.password_hash is None and user.oidc_subject is None:  # a demo database from before passwords
                user.password_hash = _demo_hash(username)
                uow.objects.add(user)
        uow.commit()


def load_processes(rt: Runtime, directory: Path) -> list[str]:
    """Publish every ``*.json`` process in ``directory`` whose content is new; return their keys.

    A process a person has worked on (any version not created by the system)
    is left alone: restarting ``bpm run`` must never publish the demo file over
    a designer's newer version.
    """
    keys = []
    for path in sorted(directory.glob("*.json")):
        body = json.loads(path.read_text())
        with rt.uow() as uow:
            authors = definitions.authors(uow, body.get("id", ""))
        if authors - {SYSTEM_ACTOR.username}:
            continue
        stored = definitions.import_definition(rt, SYSTEM_ACTOR, body)
        keys.append(f"{stored.key} v{stored.version}")
    return keys


def load_demo(rt: Runtime) -> list[str]:
    """People first (tasks name them), the seed forms, then processes (which pin the forms)."""
    load_people(rt)
    form_versions.seed(rt)
    return load_processes(rt, rt.settings.processes_dir)
