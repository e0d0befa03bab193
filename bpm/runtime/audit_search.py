"""The auditor's search: instances by process, version, status, business key, person, node, dates, outcome
and the data their forms took; one query both the pages and the API (and the exports) run.

A query is parsed once from a query string (``parse``: field-level errors for anything it cannot use) into
an ``AuditQuery``, whose ``conditions`` are plain SQL on ``process_instance``: every filter is either a
column, an indexed relation (participants, tasks) or a path into the instance's own snapshot (which nodes
it passed, what its start form said), so nothing here reads the history table, the largest one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, and_, case, exists, func, or_
from sqlmodel import select

from bpm.errors import InvalidRequest
from bpm.runtime.actors import Actor
from bpm.runtime.paging import digits
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import LegalHold, ProcessDefinition, ProcessInstance, Task
from bpm.store.paging import paginate
from bpm.store.repositories.participants import ParticipantRepository
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import InstanceStatus

ROLES = ("any", "started", "acted", "assigned")
PLAIN = ("process", "version", "status", "businessKey", "person", "role", "node", "from", "to", "outcome")
DATA_PREFIX = "data."
MAX_DATA_FILTERS = 5


@dataclass(frozen=True)
class DataFilter:
    """One form field: equal to a text (case aside), or a number at least / at most."""

    field: str
    op: str  # eq | min | max
    value: str | float

    @property
    def key(self) -> str:
        return f"{DATA_PREFIX}{self.field}" + ("" if self.op == "eq" else f".{self.op}")


@dataclass(frozen=True)
class AuditQuery:
    """What an auditor asked for; every part optional."""

    process: str | None = None
    version: int | None = None
    status: str | None = None
    business_key: str | None = None
    person: str | None = None
    role: str = "any"
    node: str | None = None
    started_from: dt.date | None = None
    started_to: dt.date | None = None
    outcome: str | None = None
    data: tuple[DataFilter, ...] = field(default_factory=tuple)

    def as_params(self) -> list[tuple[str, str]]:
        """The query string pairs that ``parse`` reads back as this query (what saved searches keep)."""
        pairs = [("process", self.process), ("version", self.version), ("status", self.status),
                 ("businessKey", self.business_key), ("person", self.person),
                 ("role", self.role if self.person and self.role != "any" else None), ("node", self.node),
                 ("from", self.started_from), ("to", self.started_to), ("outcome", self.outcome)]
        out = [(k, str(v)) for k, v in pairs if v not in (None, "")]
        out.extend((f.key, _number(f.value) if isinstance(f.value, float) else f.value) for f in self.data)
        return out

    def query_string(self) -> str:
        return urlencode(self.as_params())

    @property
    def empty(self) -> bool:
        return not self.as_params()


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


class _Reader:
    """Reads query-string arguments, collecting what is wrong with each by field."""

    def __init__(self, args: Mapping[str, Any]) -> None:
        self.args = args
        self.errors: dict[str, list[str]] = {}

    def text(self, name: str, limit: int = 200) -> str | None:
        value = self.args.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        value = str(value).strip()
        if len(value) > limit or any(ord(c) < 32 for c in value):
            self.errors[name] = [f"at most {limit} characters, no control characters"]
            return None
        return value

    def choice(self, name: str, allowed: Sequence[str], default: str | None = None) -> str | None:
        value = self.text(name, 20) or default
        if value is not None and value not in allowed:
            self.errors[name] = [f"one of {', '.join(allowed)}"]
        return value

    def day(self, name: str) -> dt.date | None:
        value = self.text(name, 10)
        try:
            return dt.date.fromisoformat(value) if value is not None else None
        except ValueError:
            self.errors[name] = ["a day as YYYY-MM-DD"]
            return None

    def name(self, name: str) -> str | None:
        """A node's id: the characters an id may hold (it goes into a JSON path)."""
        value = self.text(name)
        if value is not None and not all(c.isalnum() or c in "_-.:" for c in value):
            self.errors[name] = ["a node's id: letters, digits, '_', '-', '.' and ':'"]
        return value


def parse(args: Mapping[str, Any]) -> AuditQuery:
    """A query from query-string arguments (a dict or a MultiDict); InvalidRequest names each bad field."""
    read = _Reader(args)
    raw_version = read.text("version", 9)
    version = int(raw_version) if raw_version and digits(raw_version) and int(raw_version) >= 1 else None
    if raw_version is not None and version is None:
        read.errors["version"] = ["a version number: 1, 2, ..."]
    status = read.choice("status", [s.value for s in InstanceStatus])
    role = read.choice("role", ROLES, "any") or "any"
    started_from, started_to = read.day("from"), read.day("to")
    if started_from and started_to and started_from > started_to:
        read.errors["to"] = ["on or after the first day"]
    data = _data_filters(args, read.errors)
    process = read.text("process", 100)
    if data and process is None:
        read.errors["process"] = ["choose the process whose form names these fields"]
    node = read.name("node")
    query = AuditQuery(process=process, version=version,
                       status=status, business_key=read.text("businessKey"), person=read.text("person", 100),
                       role=role, node=node, started_from=started_from, started_to=started_to,
                       outcome=read.text("outcome"), data=tuple(data))
    if read.errors:
        raise InvalidRequest("this search cannot run", read.errors)
    return query


def _data_filters(args: Mapping[str, Any], errors: dict[str, list[str]]) -> list[DataFilter]:
    found: list[DataFilter] = []
    for key in list(args.keys()):
        if not key.startswith(DATA_PREFIX):
            if key not in PLAIN and key not in ("page", "pageSize", "format", "name", "instanceId"):
                errors.setdefault(key, ["not a search field"])
            continue
        raw = str(args.get(key) or "").strip()
        if raw:
            made = _data_filter(key, raw)
            if isinstance(made, str):
                errors[key] = [made]
            else:
                found.append(made)
    if len(found) > MAX_DATA_FILTERS:
        errors["data"] = [f"at most {MAX_DATA_FILTERS} form fields at once"]
    return found


def _data_filter(key: str, raw: str) -> DataFilter | str:
    """``data.FIELD=text``, ``data.FIELD.min=number``, ``data.FIELD.max=number`` (or what is wrong)."""
    name, op = key[len(DATA_PREFIX):], "eq"
    for suffix in (".min", ".max"):
        if name.endswith(suffix):
            name, op = name[:-len(suffix)], suffix[1:]
    if not name or len(name) > 100 or not all(c.isalnum() or c in "_-" for c in name):
        return "a form field's name: letters, digits, '_' and '-'"
    if len(raw) > 200:
        return "at most 200 characters"
    if op == "eq":
        return DataFilter(name, op, raw)
    try:
        number = float(raw)
    except ValueError:
        return "a number"
    if number != number or number in (float("inf"), float("-inf")):
        return "a number"
    return DataFilter(name, op, number)


# --- the SQL -----------------------------------------------------------------------------------------------------

class _Json:
    """Reading a JSON document's paths in SQL, for the two databases (JSONB operators; SQLite's json1)."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"

    def text_at(self, column: Any, path: Sequence[str | int]) -> ColumnElement[Any]:
        if self.postgres:
            return column[tuple(path)].as_string()
        return func.json_extract(column, _sqlite_path(path))

    def number_at(self, column: Any, path: Sequence[str | int]) -> ColumnElement[Any]:
        """The number there, or NULL when what is there is not a number (never an error)."""
        if self.postgres:
            return case((func.jsonb_typeof(column[tuple(path)]) == "number", column[tuple(path)].as_float()),
                        else_=None)
        where = _sqlite_path(path)
        return case((func.json_type(column, where).in_(("integer", "real")), func.json_extract(column, where)),
                    else_=None)

    def has(self, column: Any, path: Sequence[str | int]) -> ColumnElement[bool]:
        if self.postgres:
            return column[tuple(path)].isnot(None)
        return func.json_type(column, _sqlite_path(path)).isnot(None)


def _sqlite_path(path: Sequence[str | int]) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else '."' + str(part).replace('"', '\\"') + '"'
    return out


def conditions(uow: UnitOfWork, query: AuditQuery) -> list[ColumnElement[bool]]:
    """The query as conditions on ``process_instance``."""
    json = _Json(uow.dialect.name)
    found: list[ColumnElement[bool]] = []
    columns = {"process": ProcessInstance.definition_key, "version": ProcessInstance.definition_version,
               "status": ProcessInstance.status, "business_key": ProcessInstance.business_key,
               "outcome": ProcessInstance.outcome}
    for name, column in columns.items():
        value = getattr(query, name)
        if value is not None:
            found.append(column == value)
    if query.started_from is not None:
        found.append(ProcessInstance.started_at >= _midnight(query.started_from))
    if query.started_to is not None:
        found.append(ProcessInstance.started_at < _midnight(query.started_to + dt.timedelta(days=1)))
    if query.person is not None:
        found.append(_person(query.person, query.role))
    if query.node is not None:
        found.append(or_(ProcessInstance.current_node_id == query.node,  # waiting there, or passed it
                         json.has(ProcessInstance.snapshot, ("context", query.node))))
    if query.data:
        starts = _start_nodes(uow, query.process or "")
        for wanted in query.data:
            found.append(_data_condition(json, starts, wanted))
    return found


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _person(person: str, role: str) -> ColumnElement[bool]:
    started = ProcessInstance.started_by == person
    acted = ProcessInstance.id.in_(ParticipantRepository.instances_of(person))  # type: ignore[attr-defined]
    assigned = ProcessInstance.id.in_(select(Task.instance_id).where(  # type: ignore[attr-defined]
        or_(Task.assignee == person, Task.completed_by == person)))
    by_role = {"started": started, "acted": acted, "assigned": assigned}
    return by_role[role] if role in by_role else or_(started, acted, assigned)


def _nodes(uow: UnitOfWork, process: str) -> list[dict[str, Any]]:
    """Every node of every version of ``process``."""
    bodies = uow.session.exec(select(ProcessDefinition.body).where(ProcessDefinition.key == process)).all()
    return [n for body in bodies for n in (body or {}).get("nodes", ()) if isinstance(n, dict)]


def _start_nodes(uow: UnitOfWork, process: str) -> list[str]:
    """The start node of every version of ``process`` (where its start form's data is in a snapshot)."""
    return sorted({str(n.get("id")) for n in _nodes(uow, process) if n.get("type") == "start"})


def _data_condition(json: _Json, starts: list[str], wanted: DataFilter) -> ColumnElement[bool]:
    """The start form said it, or a decision's form did."""
    def matches(column: Any, path: Sequence[str | int]) -> ColumnElement[bool]:
        if wanted.op == "eq":
            return func.lower(json.text_at(column, path)) == str(wanted.value).lower()
        number = json.number_at(column, path)
        return number >= wanted.value if wanted.op == "min" else number <= wanted.value
    at_start = [matches(ProcessInstance.snapshot, ("context", start, 0, "output", wanted.field)) for start in starts]
    decided = exists().where(Task.instance_id == ProcessInstance.id, Task.data.isnot(None),  # type: ignore
                             matches(Task.data, (wanted.field,)))
    return or_(*at_start, decided)


# --- what the pages and the API call -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    """One instance as the search lists it."""

    instance: ProcessInstance
    held: bool


def search(uow: UnitOfWork, actor: Actor, query: AuditQuery, page: int, page_size: int,
           ) -> tuple[list[Found], int]:
    """One page of matching instances, newest first, and how many match in all. Auditors and admins."""
    require(actor, Action.INSTANCE_READ_ALL)
    statement = select(ProcessInstance).where(and_(True, *conditions(uow, query)))
    rows, total = paginate(uow.session, statement, (ProcessInstance.started_at.desc(), ProcessInstance.id),
                           page, page_size)
    held = set(uow.session.exec(select(LegalHold.instance_id).where(
        LegalHold.instance_id.in_([r.id for r in rows])))) if rows else set()  # type: ignore[attr-defined]
    return [Found(row, row.id in held) for row in rows], total


@dataclass(frozen=True)
class FormField:
    """A field the process's forms name, for choosing in the search form."""

    name: str
    title: str
    numeric: bool


def form_fields(rt: Runtime, uow: UnitOfWork, process: str) -> list[FormField]:
    """The fields of every form the process's versions use (start and tasks), by name."""
    form_ids = {n["data"].get("form") for n in _nodes(uow, process) if isinstance(n.get("data"), dict)}
    fields: dict[str, FormField] = {}
    for form_id in sorted(f for f in form_ids if isinstance(f, str) and f in rt.forms):
        properties = rt.forms.get(form_id).schema.get("properties", {})
        for name, spec in properties.items() if isinstance(properties, Mapping) else ():
            if not isinstance(spec, Mapping) or name in fields:
                continue
            kind = spec.get("type")
            fields[name] = FormField(name, str(spec.get("title") or name), kind in ("number", "integer"))
    return sorted(fields.values(), key=lambda f: f.name)


def processes(uow: UnitOfWork) -> list[tuple[str, str]]:
    """Every process key with its newest name (for choosing one)."""
    rows = uow.session.exec(select(ProcessDefinition.key, ProcessDefinition.name)
                            .order_by(ProcessDefinition.key, ProcessDefinition.version)).all()
    return sorted({key: name for key, name in rows}.items())
