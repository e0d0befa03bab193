"""Definition lifecycle: validate, save a draft, publish an immutable numbered version, retire.

The actions (save_draft, publish, retire, import_definition) each run in
their own unit of work and commit it, like every other runtime action, so
the API, the designer pages and the CLI call one function per action.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, NamedTuple

import orjson

from bpm.engine import NodeRole, Problem, WorkflowDefinition, nodes_with_role, validate_definition
from bpm.engine.definition import parse_definition
from bpm.engine.expressions.reads import field_read
from bpm.engine.expressions.template import has_expression, iter_expressions
from bpm.errors import ConflictError, DefinitionError, NotFound, PreconditionFailed, shown
from bpm.nodes import END_HANDLE, NodeType
from bpm.nodes.human_task import allowed_outcomes
from bpm.runtime.access import definition_facts
from bpm.runtime.actors import Actor
from bpm.runtime.notices import INSTANCE_EVENTS
from bpm.runtime.policy import Action, allows, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import ProcessDefinition
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import AdminCause, DefinitionStatus

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
DRAFT, PUBLISHED, RETIRED = DefinitionStatus
MAX_VERSION = 2**31 - 1  # the column is a 32-bit integer


def check(rt: Runtime, body: Any) -> list[Problem]:
    """Every problem in ``body``: engine rules, process rules (one start, form references), handles.

    Portability to Refluxo's TypeScript engine is checked too: its findings are warnings (a
    definition that uses our transforms is fine here), shown wherever a definition is validated.
    """
    problems: list[Problem] = []
    loaded = parse_definition(body, problems)
    if loaded is None:
        return problems
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not KEY_PATTERN.match(body["id"]):
        problems.append(Problem("$.id", "the process key: lowercase letters, digits, '-' and '_', "
                                        "at most 100 characters"))
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
        problems.append(Problem("$.name", "a process needs a name"))
    starts = [n.id for n in nodes_with_role(loaded.nodes, rt.node_types, NodeRole.START)]
    problems.extend(validate_definition(loaded, rt.node_types, start_node_ids=starts or None, portable=True))
    if len(starts) != 1:
        problems.append(Problem("$.nodes", f"a process needs exactly one start node, found {len(starts)}"))
    problems.extend(_form_problems(rt, loaded))
    problems.extend(_handle_problems(loaded))
    problems.extend(_audience_problems(loaded))
    problems.extend(_form_limit_problems(rt, loaded))
    problems.extend(_access_problems(body, loaded))
    problems.extend(_calendar_problems(rt, body, loaded))
    problems.extend(_webhook_problems(body))
    problems.extend(_retention_problems(body))
    return problems


def _retention_problems(body: Any) -> list[Problem]:
    """``historyTimeToLive``: whole days after an instance ends before retention may purge its data."""
    days = body.get("historyTimeToLive") if isinstance(body, dict) else None
    if days is None or (isinstance(days, int) and not isinstance(days, bool) and 0 <= days <= 36_500):
        return []
    return [Problem("$.historyTimeToLive", "historyTimeToLive is a whole number of days from 0 to 36500 "
                                           "(how long a finished instance's data is kept)")]


def _webhook_problems(body: Any) -> list[Problem]:
    """``webhooks: [{url, events?}]``: where the process's instance events are POSTed (signed), and which."""
    hooks = body.get("webhooks") if isinstance(body, dict) else None
    if hooks is None:
        return []
    if not isinstance(hooks, list) or len(hooks) > 20:
        return [Problem("$.webhooks", "webhooks: a list (at most 20) of {url, events?}")]
    found = []
    for i, hook in enumerate(hooks):
        url = hook.get("url") if isinstance(hook, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2000 \
                or any(c in url for c in " \n\r\t"):
            found.append(Problem(f"$.webhooks[{i}].url", "an http(s) URL the events are POSTed to"))
        events = hook.get("events", list(INSTANCE_EVENTS)) if isinstance(hook, dict) else None
        if not isinstance(events, list) or not events or not set(events) <= set(INSTANCE_EVENTS):
            found.append(Problem(f"$.webhooks[{i}].events", f"some of: {', '.join(INSTANCE_EVENTS)}"))
        if isinstance(hook, dict) and set(hook) - {"url", "events"}:
            found.append(Problem(f"$.webhooks[{i}]", "a webhook has a url and, optionally, events"))
    return found


def _calendar_problems(rt: Runtime, body: Any, definition: WorkflowDefinition) -> list[Problem]:
    """A calendar a process or node counts in must exist (``calendars/``), named as it is, not computed."""
    named = [("$.calendar", body.get("calendar"))] if isinstance(body, dict) and "calendar" in body else []
    named += [(f"$.nodes[{i}].data.calendar", node.data["calendar"]) for i, node in enumerate(definition.nodes)
              if isinstance(node.data, dict) and "calendar" in node.data]
    known = ", ".join(sorted(rt.calendars.calendars)) or "none are configured (calendars/*.json)"
    return [Problem(where, f"no calendar {value!r}; the calendars: {known}") for where, value in named
            if not isinstance(value, str) or value not in rt.calendars]


def _access_problems(body: Any, definition: WorkflowDefinition) -> list[Problem]:
    """``startableBy``, ``fourEyes`` and ``distinctFrom`` say who may act; a typo there must not open a hole."""
    found = []
    startable = body.get("startableBy") if isinstance(body, dict) else None
    if startable is not None and not (
            isinstance(startable, dict) and startable and set(startable) <= {"users", "groups"}
            and all(isinstance(v, list) and all(isinstance(n, str) and n for n in v) for v in startable.values())):
        found.append(Problem("$.startableBy", "startableBy: {users?: [user names], groups?: [group names]}, "
                                              "at least one of them"))
    for flag in ("fourEyes", "requesterMayCancel"):
        if isinstance(body, dict) and flag in body and not isinstance(body[flag], bool):
            found.append(Problem(f"$.{flag}", f"{flag} is true or false"))
    tasks = {n.id for n in definition.nodes if n.type == NodeType.HUMAN_TASK}
    for i, node in enumerate(definition.nodes):
        others = node.data.get("distinctFrom") if isinstance(node.data, dict) else None
        for j, other in enumerate(others if isinstance(others, list) else ()):
            if isinstance(other, str) and (other not in tasks or other == node.id):
                found.append(Problem(f"$.nodes[{i}].data.distinctFrom[{j}]",
                                     f"'{other}' is not another human task of this process"))
    return found


def _form_limit_problems(rt: Runtime, definition: WorkflowDefinition) -> list[Problem]:
    """Warn where a start form field, read straight into node data, may be longer than that data field takes.

    ``"assignee": "{{ submit.last.data.manager }}"`` fails the instance at that
    node if someone types a 150-character manager; the form is where to stop it.
    """
    start = next(iter(nodes_with_role(definition.nodes, rt.node_types, NodeRole.START)), None)
    form_id = start.data.get("form") if start is not None and isinstance(start.data, dict) else None
    if not isinstance(form_id, str) or form_id not in rt.forms:
        return []
    fields = rt.forms.get(form_id).schema.get("properties", {})
    found = []
    for i, node in enumerate(definition.nodes):
        node_type = rt.node_types.get(node.type)
        limits = (node_type.input_schema or {}).get("properties", {}) if node_type is not None else {}
        for key, value in (node.data.items() if isinstance(node.data, dict) else ()):
            field = field_read(value, start.id, start=True) if isinstance(value, str) else None
            longest = limits.get(key, {}).get("maxLength")
            if field is None or longest is None or not isinstance(fields.get(field), dict):
                continue
            allowed = fields[field].get("maxLength")
            if allowed is None or allowed > longest:
                found.append(Problem(f"$.nodes[{i}].data.{key}", (
                    f"node '{node.id}' takes at most {longest} characters here, but field '{field}' of form "
                    f"'{form_id}' allows {'any length' if allowed is None else allowed}: give the field "
                    f"maxLength {longest}, or an instance with a longer value fails at this node"), "warning"))
    return found


def _form_problems(rt: Runtime, definition: WorkflowDefinition) -> list[Problem]:
    found = []
    for i, node in enumerate(definition.nodes):
        form = node.data.get("form") if isinstance(node.data, dict) else None
        if isinstance(form, str) and not has_expression(form) and form not in rt.forms:
            found.append(Problem(f"$.nodes[{i}].data.form",
                                 f"node '{node.id}' uses form '{form}', which does not exist; "
                                 f"known forms: {', '.join(rt.forms.ids())}"))
    return found


def _handle_problems(definition: WorkflowDefinition) -> list[Problem]:
    """Edges a node can never take (an error: the process would silently end there), and edges out of ends."""
    produced: dict[str, set[str | None]] = {}
    for node in definition.nodes:
        data = node.data if isinstance(node.data, dict) else {}
        routing = {"outcomes": data.get("outcomes"), "escalations": data.get("escalations")}
        if node.type == NodeType.HUMAN_TASK and _static(routing):
            produced[node.id] = set(allowed_outcomes(data))
        elif node.type == NodeType.DECISION:
            rules = data.get("rules") if isinstance(data.get("rules"), list) else []
            handles = {r.get("handle") for r in rules if isinstance(r, dict)} | {data.get("default")}
            if _static(list(handles)):
                produced[node.id] = handles
    found = []
    for i, edge in enumerate(definition.edges):
        source = definition.nodes_by_id.get(edge.source)
        if source is None:
            continue  # a dangling edge is already reported
        if source.type == NodeType.END or edge.source_handle == END_HANDLE:
            found.append(Problem(f"$.edges[{i}]", f"edge '{edge.id}' leaves end node '{edge.source}'; "
                                                  "an end node finishes the process"))
        elif edge.source in produced and edge.source_handle not in produced[edge.source]:
            handle = "the default handle" if edge.source_handle is None else f"'{edge.source_handle}'"
            choices = ", ".join(sorted(str(h) for h in produced[edge.source] if h is not None))
            found.append(Problem(f"$.edges[{i}].sourceHandle",
                                 f"edge '{edge.id}' can never be taken: node '{edge.source}' never leaves by "
                                 f"{handle}; it leaves by: {choices}"))
    return found


def _audience_problems(definition: WorkflowDefinition) -> list[Problem]:
    """Human tasks offered to nobody: anyone may complete one, but it shows in no one's inbox (a warning)."""
    audience = ("assignee", "candidateUsers", "candidateGroups", "approvers")
    found = []
    for i, node in enumerate(definition.nodes):
        data = node.data if isinstance(node.data, dict) else {}
        if node.type == NodeType.HUMAN_TASK and not any(data.get(key) for key in audience):
            found.append(Problem(f"$.nodes[{i}].data", f"human task '{node.id}' names no assignee, candidate users "
                                 "or candidate groups: it will show in no one's inbox", "warning"))
    return found


def _static(value: Any) -> bool:
    """True if no string anywhere in ``value`` holds an expression (so it is known before run time)."""
    return next(iter_expressions(value), None) is None


def _errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


class ValidationReport(NamedTuple):
    """Every problem of a definition; it can be saved and published when none is an error."""

    valid: bool
    problems: list[Problem]


def validate(rt: Runtime, body: Any) -> ValidationReport:
    """Check ``body`` without saving it (what the designer shows while editing)."""
    problems = check(rt, body)
    return ValidationReport(not _errors_only(problems), problems)


def checksum(body: Any) -> str:
    """SHA-256 of the canonical JSON of a definition."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def save_draft(rt: Runtime, actor: Actor, body: Any, if_match: int | None = None) -> ProcessDefinition:
    """Create the key's draft version, or replace the draft that exists; DefinitionError if invalid.

    With ``if_match`` the draft must still be at that revision (PreconditionFailed if
    someone saved it since, or if there is no draft to replace).
    """
    with rt.uow() as uow:
        draft = _save_draft(rt, uow, actor, body, if_match)
        uow.commit()
        return draft


def _save_draft(rt: Runtime, uow: UnitOfWork, actor: Actor, body: Any,
                if_match: int | None = None) -> ProcessDefinition:
    require(actor, Action.DEFINITION_WRITE)
    errors = _errors_only(check(rt, body))
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


def publish(rt: Runtime, actor: Actor, key: str, version: int) -> ProcessDefinition:
    """Make a draft the key's newest published version; it is immutable from now on."""
    with rt.uow() as uow:
        published = _publish(rt, uow, actor, key, version)
        uow.commit()
        return published


def _publish(rt: Runtime, uow: UnitOfWork, actor: Actor, key: str, version: int) -> ProcessDefinition:
    require(actor, Action.DEFINITION_WRITE)
    definition = _in_status(uow, key, version, DRAFT, "only a draft can be published")
    errors = _errors_only(check(rt, definition.body)) + call_problems(uow, key, definition.body)
    if errors:
        raise DefinitionError(errors)
    definition.published_by = actor.username
    definition.published_at = rt.now()
    moved = _move(uow, definition, PUBLISHED, definition.published_at)
    _record(uow, actor, AdminCause.DEFINITION_PUBLISHED, moved)
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
        draft = _save_draft(rt, uow, actor, body)
        published = _publish(rt, uow, actor, draft.key, draft.version)
        uow.commit()
        return published
