"""Forms as data: drafts, published versions and retirement, with no restart.

The lifecycle is a process definition's: one draft per form, saved with its
revision (If-Match), published into an immutable numbered version, retired
when no new process should pin it. ``forms/*.json`` are the seed: version 1
of each form the database does not have yet (``seed``). Every server keeps
the published versions in ``rt.forms``; a designer's action re-reads them
(``refresh``), and a version another server published is read on first use.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bpm.errors import ConcurrentWrite, ConflictError, InvalidRequest, NotFound, PreconditionFailed, shown
from bpm.forms import Form, form_problems, parse_form
from bpm.forms.documents import new_form_id_problem
from bpm.runtime.actors import SYSTEM_ACTOR, Actor
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import FormVersion
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import AdminCause, DefinitionStatus

DRAFT, PUBLISHED, RETIRED = DefinitionStatus
MAX_VERSION = 2**31 - 1


def refresh(rt: Runtime, uow: UnitOfWork) -> None:
    """Make ``rt.forms`` what the database says (the seed files standing for forms it has no version of)."""
    rows = uow.forms.usable()
    rt.forms.replace([r.as_form() for r in rows if r.status == PUBLISHED],
                     retired=[r.as_form() for r in rows if r.status == RETIRED])


def seed(rt: Runtime) -> list[str]:
    """Store version 1 of every seed form the database has none of; return their ids."""
    with rt.uow() as uow:
        added = _store_seed(rt, uow, set(rt.forms.seed))
        try:
            uow.commit()
        except ConcurrentWrite:  # another server seeded them first: theirs stand
            added = []
    with rt.uow() as uow:
        refresh(rt, uow)
    return added


def _store_seed(rt: Runtime, uow: UnitOfWork, ids: set[str]) -> list[str]:
    missing = sorted(ids - uow.forms.stored_ids())
    now = rt.now()
    for form_id in missing:
        form = rt.forms.seed[form_id]
        uow.objects.add(FormVersion(form_id=form.id, version=1, status=PUBLISHED, title=form.title,
                                    schema_=dict(form.schema), rules=list(form.rules), ui=dict(form.ui),
                                    created_by=SYSTEM_ACTOR.username, created_at=now, updated_at=now,
                                    published_by=SYSTEM_ACTOR.username, published_at=now))
    if missing:
        uow.flush()
    return missing


def save_draft(rt: Runtime, actor: Actor, body: Any, if_match: int | None = None) -> FormVersion:
    """Create the form's draft version, or replace the draft that exists; InvalidRequest (with the path of each
    problem) if the form is not usable. With ``if_match`` the draft must still be at that revision."""
    require(actor, Action.DEFINITION_WRITE)
    problems = form_problems(body)
    id_problem = new_form_id_problem(body.get("id") if isinstance(body, dict) else None)
    if id_problem is not None and not any(p.path == "$.id" for p in problems):
        problems.insert(0, id_problem)
    if problems:
        raise InvalidRequest("not a usable form", _by_path(problems))
    form_id = body["id"]
    with rt.uow() as uow:
        _store_seed(rt, uow, {form_id} & set(rt.forms.seed))  # version 1 is the file's: the draft follows it
        draft = uow.forms.draft_of(form_id, lock=True)
        if if_match is not None and (draft is None or draft.revision != if_match):
            at = f"at revision {draft.revision}" if draft is not None else "gone (published or never saved)"
            raise PreconditionFailed(f"the draft of form {shown(form_id)} is {at}, not {if_match}; reload it")
        now = rt.now()
        if draft is None:
            draft = FormVersion(form_id=form_id, version=(uow.forms.newest_version_number(form_id) or 0) + 1,
                                status=DRAFT, title="", schema_={}, rules=[], ui={}, created_by=actor.username,
                                created_at=now, updated_at=now)
        else:
            draft.revision += 1
        draft.title, draft.schema_ = body["title"], body["schema"]
        draft.rules, draft.ui, draft.updated_at = list(body.get("rules") or []), dict(body.get("ui") or {}), now
        uow.objects.add(draft, now=True)
        uow.commit()
        return draft


def create(rt: Runtime, actor: Actor, form_id: str, title: str) -> FormVersion:
    """A new form's first draft, with one text field to begin with; the id must be new."""
    require(actor, Action.DEFINITION_WRITE)
    with rt.uow() as uow:
        if uow.forms.newest_version_number(form_id) is not None or form_id in rt.forms:
            raise InvalidRequest("that id is taken", {"id": [f"a form {form_id!r} exists already"]})
    return save_draft(rt, actor, {"id": form_id, "title": title, "ui": {"order": ["name"]}, "schema": {
        "type": "object", "properties": {"name": {"type": "string", "title": "Name"}}}})


def _by_path(problems: Iterable[Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(problem.path, []).append(problem.message)
    return errors


def publish(rt: Runtime, actor: Actor, form_id: str, version: int) -> FormVersion:
    """Make a draft the form's newest published version: processes published from now on pin it."""
    require(actor, Action.DEFINITION_WRITE)
    with rt.uow() as uow:
        row = _in_status(uow, form_id, version, DRAFT, "only a draft can be published")
        row.status, row.published_by, row.published_at = PUBLISHED, actor.username, rt.now()
        _record(uow, actor, AdminCause.FORM_PUBLISHED, row)
        uow.commit()
        refresh(rt, uow)
        return row


def retire(rt: Runtime, actor: Actor, form_id: str, version: int) -> FormVersion:
    """Retire a published version: new processes no longer pin it; those that did keep it."""
    require(actor, Action.DEFINITION_WRITE)
    with rt.uow() as uow:
        row = _in_status(uow, form_id, version, PUBLISHED, "only a published version can be retired")
        row.status = RETIRED
        _record(uow, actor, AdminCause.FORM_RETIRED, row)
        uow.commit()
        refresh(rt, uow)
        return row


def _in_status(uow: UnitOfWork, form_id: str, version: int, status: str, rule: str) -> FormVersion:
    row = get_version(uow, form_id, version, lock=True)
    if row.status != status:
        raise ConflictError(f"version {version} of form {shown(form_id)} is {row.status}; {rule}")
    return row


def _record(uow: UnitOfWork, actor: Actor, cause: AdminCause, row: FormVersion) -> None:
    row.revision += 1
    row.updated_at = row.published_at if cause == AdminCause.FORM_PUBLISHED and row.published_at else row.updated_at
    uow.objects.add(row, now=True)
    uow.audit_events.append(row.updated_at, actor.username, cause, f"form:{row.form_id}:{row.version}",
                            {"form": row.form_id, "version": row.version, "title": row.title})


def get_version(uow: UnitOfWork, form_id: str, version: int, lock: bool = False) -> FormVersion:
    """One stored version, or NotFound."""
    found = uow.forms.version(form_id, version, lock) if 1 <= version <= MAX_VERSION else None
    if found is None:
        raise NotFound(f"no version {version} of form {shown(form_id)}")
    return found


@dataclass(frozen=True)
class FormLine:
    """A form as the catalogue of forms lists it: its newest version and what is published."""

    form_id: str
    title: str
    newest: int
    status: str  # of the newest version
    published: int | None  # the version new processes pin (None: none is)
    updated_at: Any
    updated_by: str


def catalogue(rt: Runtime, uow: UnitOfWork, actor: Actor) -> list[FormLine]:
    """Every form with its newest version and the version in use (the seed's version 1 for a form only a file
    holds)."""
    require(actor, Action.DEFINITION_LIST)
    refresh(rt, uow)
    by_id: dict[str, list[FormVersion]] = {}
    for row in uow.forms.every_version():
        by_id.setdefault(row.form_id, []).append(row)
    lines = []
    for form_id in sorted(set(by_id) | set(rt.forms.ids())):
        rows = by_id.get(form_id)
        if not rows:
            form = rt.forms.get(form_id)
            lines.append(FormLine(form_id, form.title, 1, PUBLISHED, 1, None, SYSTEM_ACTOR.username))
            continue
        published = next((r.version for r in rows if r.status == PUBLISHED), None)
        newest = rows[0]
        lines.append(FormLine(form_id, newest.title, newest.version, newest.status, published, newest.updated_at,
                              newest.published_by or newest.created_by))
    return lines


def read_version(rt: Runtime, uow: UnitOfWork, actor: Actor, form_id: str, version: int) -> FormVersion:
    """One version of a form (drafts: designers only)."""
    found = next((row for row in versions_of(rt, uow, form_id) if row.version == version), None)
    if found is None:
        raise NotFound(f"no version {version} of form {shown(form_id)}")
    if found.status == DRAFT:
        require(actor, Action.DEFINITION_READ_ALL)
    return found


def versions(rt: Runtime, uow: UnitOfWork, actor: Actor, form_id: str) -> list[FormVersion]:
    """Every version of a form, newest first (designers and auditors)."""
    require(actor, Action.DEFINITION_READ_ALL)
    rows = versions_of(rt, uow, form_id)
    if not rows:
        raise NotFound(f"no form {shown(form_id)}")
    return rows


def versions_of(rt: Runtime, uow: UnitOfWork, form_id: str) -> list[FormVersion]:
    """The stored versions of a form, or its seed file as version 1 (not stored until someone changes it)."""
    rows = uow.forms.versions_of(form_id)
    if rows or form_id not in rt.forms.seed:
        return rows
    form = rt.forms.seed[form_id]
    return [FormVersion(form_id=form.id, version=1, status=PUBLISHED, title=form.title, schema_=dict(form.schema),
                        rules=list(form.rules), ui=dict(form.ui), created_by=SYSTEM_ACTOR.username,
                        created_at=rt.now(), updated_at=rt.now(), published_by=SYSTEM_ACTOR.username)]


def current(rt: Runtime, uow: UnitOfWork, form_id: str) -> Form:
    """The version new processes pin, read fresh (another server may have published one)."""
    refresh(rt, uow)
    return rt.forms.get(form_id)


def pins_for(rt: Runtime, body: Mapping[str, Any]) -> dict[str, int]:
    """The form versions a definition published now pins: the current version of each form it names."""
    pins: dict[str, int] = {}
    for node in body.get("nodes", []) if isinstance(body, Mapping) else []:
        data = node.get("data") if isinstance(node, Mapping) else None
        form_id = data.get("form") if isinstance(data, Mapping) else None
        if isinstance(form_id, str) and form_id in rt.forms:
            pins[form_id] = rt.forms.get(form_id).version
    return pins


def import_files(rt: Runtime, actor: Actor, paths: Iterable[Path]) -> list[str]:
    """Each form file as a new published version when it differs from the current one; what happened, per file."""
    said = []
    seed(rt)
    for path in paths:
        document = json.loads(path.read_text())
        form = parse_form(document)
        if form.id in rt.forms and rt.forms.get(form.id).document() == form.document():
            said.append(f"{form.id} v{rt.forms.get(form.id).version} unchanged")
            continue
        draft = save_draft(rt, actor, document)
        publish(rt, actor, form.id, draft.version)
        said.append(f"{form.id} v{draft.version} published")
    return said

