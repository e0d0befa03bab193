"""A form field that names a person or a group (``x-picks``: ``user`` or ``group``) must name one who is here.

The picker offers names as letters are typed; without JavaScript it is a plain field, and this is its check —
so "bobb" is a 422 at the field, not a task assigned to nobody that waits in the admins' orphan list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bpm.errors import InvalidRequest, shown
from bpm.forms import Form
from bpm.runtime.runtime import Runtime
from bpm.store.uow import UnitOfWork


def check_named_people(rt: Runtime, uow: UnitOfWork, form: Form | None, data: Mapping[str, Any]) -> None:
    """Raise InvalidRequest naming each top-level field whose person is not an active user, or whose group
    does not exist (people from the actor cache first: most are known there already)."""
    if form is None or not isinstance(data, Mapping):
        return
    properties = form.schema.get("properties") if isinstance(form.schema.get("properties"), Mapping) else {}
    errors: dict[str, list[str]] = {}
    groups: dict[str, str] = {}
    for name, spec in properties.items():
        value = data.get(name)
        if not isinstance(spec, Mapping) or not isinstance(value, str) or not value:
            continue
        if spec.get("x-picks") == "user" and not rt.actors.is_active_user(value, uow):
            errors[name] = [f"no active user {shown(value)}"]  # as the assignee check says it (instances.py)
        elif spec.get("x-picks") == "group":
            groups[name] = value
    if groups:
        known = uow.people.groups_among(set(groups.values()))
        for name, value in groups.items():
            if value not in known:
                errors[name] = [f"no group {shown(value)}"]
    if errors:
        raise InvalidRequest("a named person or group is not known", errors)
