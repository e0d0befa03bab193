"""Definition lifecycle: save a draft, publish an immutable numbered version, retire (the checks of a definition:
``definition_checks``).

The actions (save_draft, publish, retire, import_definition) each run in
their own unit of work and commit it, like every other runtime action, so
the API, the designer pages and the CLI call one function per action.
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

import orjson

from bpm.engine import Problem
from bpm.errors import ConflictError, DefinitionError, InvalidRequest, NotFound, PreconditionFailed, shown
from bpm.runtime import form_versions, scenarios
from bpm.runtime.access import definition_facts
from bpm.runtime.actors import Actor
from bpm.runtime.definition_checks import check, errors_only, shape_errors
from bpm.runtime.policy import Action, allows, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import ProcessDefinition
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import AdminCause, DefinitionStatus

DRAFT, PUBLISHED, RETIRED = DefinitionStatus
MAX_VERSION = 2**31 - 1  # the column is a 32-bit integer


MAX_COMMENT = 2000
"""A publishing comment's length: why this version, in a few sentences, kept in the admin chain."""


def checksum(body: Any) -> str:
    """SHA-256 of the canonical JSON of a definition."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def save_draft(rt: Runtime, actor: Actor, body: Any, if_match: int | None = None,
               keep_problems: bool = False) -> ProcessDefinition:
    """Create the key's draft version, or replace the draft that exists; DefinitionError if invalid.

    With ``if_match`` the draft must still be at that revision (PreconditionFailed if
    someone saved it since, or if there is no draft to replace). With
    ``keep_problems`` (the designer's pages: work in progress) only a body that
    is no draft at all is refused; publishing still requires no errors.
    """
    with rt.uow() as uow:
        draft = save_draft_in(rt, uow, actor, body, if_match, keep_problems)
        uow.commit()
        return draft


def save_draft_in(rt: Runtime, uow: UnitOfWork, actor: Actor, body: Any,
                  if_match: int | None = None, keep_problems: bool = False) -> ProcessDefinition:
    """``save_draft`` within the caller's unit of work (which commits it)."""
    require(actor, Action.DEFINITION_WRITE)
    problems = check(rt, body, uow)
    errors = shape_errors(problems, body) if keep_problems else errors_only(problems)
    if errors:
        raise DefinitionError(errors)
    key, now = body["id"], rt.now()
    draft = uow.definitions.draft_of(key, lock=True)
    if if_match is not None and (draft is None or draft.revision != if_match):
        at = f"at revision {draft.revision}" if draft is not None else "gone (published or never saved)"
        raise PreconditionFailed(f"the draft of {shown(key)} is {at}, not {if_match}; reload it")
    if draft is None:
        latest = uow.definitions.newest_version_number(key)
        draft = ProcessDefinition(key=key, version=(latest or 0) + 1, status=DRAFT, name=body["name"], body={},
                                  checksum="", created_by=actor.username, created_at=now, updated_at=now)
    else:
        draft.revision += 1
    stored = {**body, "version": draft.version}
    draft.body, draft.name, draft.checksum, draft.updated_at = stored, body["name"], checksum(stored), now
    uow.objects.add(draft, now=True)
    return draft


def get_version(uow: UnitOfWork, key: str, version: int, lock: bool = False) -> ProcessDefinition:
    """One stored version, or NotFound; ``lock`` holds it (FOR UPDATE) until the unit ends."""
    if not 1 <= version <= MAX_VERSION:
        raise NotFound(f"no version {version} of process {shown(key)}")
    found = uow.definitions.version(key, version, lock)
    if found is None:
        raise NotFound(f"no version {version} of process {shown(key)}")
    return found


def authors(uow: UnitOfWork, key: str) -> set[str]:
    """Who created or published any version of ``key`` (empty for a new key)."""
    return uow.definitions.authors_of(key)


def _readable(actor: Actor, definition: ProcessDefinition) -> bool:
    return allows(actor, Action.DEFINITION_READ, definition_facts(definition.key, definition.status, definition.body))


def read_version(uow: UnitOfWork, actor: Actor, key: str, version: int) -> ProcessDefinition:
    """One version the actor may read (designers and auditors: all; employees: published ones they may start)."""
    found = get_version(uow, key, version)
    require(actor, Action.DEFINITION_READ, definition_facts(found.key, found.status, found.body))
    return found


def list_versions(uow: UnitOfWork, actor: Actor, key: str) -> list[ProcessDefinition]:
    """Every version of ``key`` the actor may read, newest first, or NotFound."""
    require(actor, Action.DEFINITION_LIST)
    readable = [version for version in uow.definitions.versions_of(key) if _readable(actor, version)]
    if not readable:
        raise NotFound(f"no process {shown(key)}")
    return readable


def newest_published_ref(uow: UnitOfWork, key: str) -> tuple[int, int]:
    """``(id, version)`` of what new instances of ``key`` start, without reading the definition body."""
    found = uow.definitions.newest_published(key)
    if found is None:
        raise NotFound(f"no published version of process {shown(key)}")
    return found


def latest_published(uow: UnitOfWork, key: str) -> ProcessDefinition:
    """The newest published version of ``key`` with its definition: what new instances start."""
    return get_version(uow, key, newest_published_ref(uow, key)[1])


def publish(rt: Runtime, actor: Actor, key: str, version: int, comment: str | None = None) -> ProcessDefinition:
    """Make a draft the key's newest published version; it is immutable from now on."""
    with rt.uow() as uow:
        if comment is not None and len(comment) > MAX_COMMENT:
            raise InvalidRequest("comment too long", {"comment": [f"at most {MAX_COMMENT:,} characters"]})
        published = _publish(rt, uow, actor, key, version, comment or None)
        uow.commit()
        return published


def _publish(rt: Runtime, uow: UnitOfWork, actor: Actor, key: str, version: int,
             comment: str | None = None) -> ProcessDefinition:
    require(actor, Action.DEFINITION_WRITE)
    definition = _in_status(uow, key, version, DRAFT, "only a draft can be published")
    errors = errors_only(check(rt, definition.body, uow)) + call_problems(uow, key, definition.body)
    if not errors:  # a draft that does not load is not run; its scenarios are judged once it does
        errors = scenarios.failures(rt, actor, uow, key, definition.body)
    if errors:
        raise DefinitionError(errors)
    definition.form_versions = form_versions.pins_for(rt, definition.body) or None  # check() read them fresh
    definition.published_by = actor.username
    definition.published_at = rt.now()
    moved = _move(uow, definition, PUBLISHED, definition.published_at)
    _record(uow, actor, AdminCause.DEFINITION_PUBLISHED, moved, {"comment": comment} if comment else None)
    return moved


def call_problems(uow: UnitOfWork, key: str, body: Any) -> list[Problem]:
    """At publish: every called process must be published, and no chain of calls may lead back to ``key``."""
    found: list[Problem] = []
    for i, node in enumerate(body.get("nodes", []) if isinstance(body, dict) else []):
        if not isinstance(node, dict) or node.get("type") != "call" or not isinstance(node.get("data"), dict):
            continue
        target = node["data"].get("process")
        path = f"$.nodes[{i}].data.process"
        if target == key:
            found.append(Problem(path, f"'{node.get('id')}' calls its own process: it would never end"))
            continue
        if not isinstance(target, str):
            continue
        chain = _chain_back(uow, target, key, [key, target])
        if chain == []:
            found.append(Problem(path, f"{shown(target)} has no published version to call"))
        elif chain is not None:
            found.append(Problem(path, "calls lead back to this process: " + " → ".join(chain)))
    return found


def _chain_back(uow: UnitOfWork, key: str, origin: str, chain: list[str], seen: set[str] | None = None
                ) -> list[str] | None:
    """The chain of calls from ``key`` back to ``origin`` ([] when ``key`` has no published version), or None."""
    seen = seen if seen is not None else set()
    try:
        body = latest_published(uow, key).body
    except NotFound:
        return [] if len(chain) == 2 else None
    seen.add(key)
    for node in body.get("nodes", []) if isinstance(body, dict) else []:
        data = node.get("data") if isinstance(node, dict) else None
        if not isinstance(data, dict) or node.get("type") != "call" or not isinstance(data.get("process"), str):
            continue
        target = data["process"]
        if target == origin:
            return [*chain, origin]
        if target not in seen:
            found = _chain_back(uow, target, origin, [*chain, target], seen)
            if found:
                return found
    return None


class Retirement(NamedTuple):
    """A retired version, and the version new instances start from now on (None: the process cannot start)."""

    definition: ProcessDefinition
    new_instances_start: int | None


def retire(rt: Runtime, actor: Actor, key: str, version: int, fallback: bool = False) -> Retirement:
    """Stop new instances of a published version; running ones finish on it.

    Retiring the newest published version while an older one is published
    would silently make new instances start the older one: that takes
    ``fallback=True``. Retiring the only published version stops the process.
    """
    require(actor, Action.DEFINITION_WRITE)
    with rt.uow() as uow:
        definition = _in_status(uow, key, version, PUBLISHED, "only a published one retires")
        older = uow.definitions.newest_version_number(key, PUBLISHED, besides=version)
        if older is not None and older < version and not fallback:
            raise ConflictError(f"version {version} is the newest published version of {shown(key)}: retiring it "
                                f"makes new instances start version {older}; ask again with fallback=true to do that")
        definition.retired_at = rt.now()
        retired = _move(uow, definition, RETIRED, definition.retired_at)
        _record(uow, actor, AdminCause.DEFINITION_RETIRED, retired, {"newInstancesStart": older})
        uow.commit()
        return Retirement(retired, older)


def _record(uow: UnitOfWork, actor: Actor, cause: AdminCause, definition: ProcessDefinition,
            more: dict[str, Any] | None = None) -> None:
    """The definition's change of status, in the admin chain, in the same transaction as the change."""
    at = definition.updated_at
    uow.audit_events.append(at, actor.username, cause, definition_subject(definition.key, definition.version),
                            {"key": definition.key, "version": definition.version, "name": definition.name,
                             "checksum": definition.checksum, **(more or {})})


def definition_subject(key: str, version: int) -> str:
    """How the admin chain names a definition version."""
    return f"definition:{key}:{version}"


def _in_status(uow: UnitOfWork, key: str, version: int, status: str, rule: str) -> ProcessDefinition:
    """The version, locked against concurrent changes of status, if it is in ``status``."""
    definition = get_version(uow, key, version, lock=True)
    if definition.status != status:
        raise ConflictError(f"version {version} of {shown(key)} is {definition.status}; {rule}")
    return definition


def _move(uow: UnitOfWork, definition: ProcessDefinition, status: str, at: Any) -> ProcessDefinition:
    definition.status, definition.updated_at = status, at
    definition.revision += 1
    uow.objects.add(definition)
    uow.flush()
    return definition


def list_definitions(uow: UnitOfWork, actor: Actor, status: str | None = None) -> list[ProcessDefinition]:
    """The newest version of every key the actor may read (optionally only those in ``status``).

    Designers and auditors see every process; an employee sees the newest
    published version of each process they may start: the catalogue.
    """
    require(actor, Action.DEFINITION_LIST)
    if not allows(actor, Action.DEFINITION_READ_ALL):
        if status not in (None, PUBLISHED):
            return []
        status = PUBLISHED
    return [row for row in uow.definitions.newest_of_each(status) if _readable(actor, row)]


def startable(uow: UnitOfWork, actor: Actor) -> list[ProcessDefinition]:
    """The newest published version of every process the actor may start: the catalogue."""
    return [row for row in list_definitions(uow, actor, PUBLISHED)
            if allows(actor, Action.INSTANCE_START, definition_facts(row.key, row.status, row.body))]


def import_definition(rt: Runtime, actor: Actor, body: Any) -> ProcessDefinition:
    """Save and publish ``body`` in one transaction, unless the newest published version has the same content."""
    with rt.uow() as uow:
        try:
            current = latest_published(uow, body.get("id", "") if isinstance(body, dict) else "")
        except NotFound:
            current = None
        if current is not None and checksum({**body, "version": current.version}) == current.checksum:
            return current
        draft = save_draft_in(rt, uow, actor, body)
        published = _publish(rt, uow, actor, draft.key, draft.version)
        uow.commit()
        return published
