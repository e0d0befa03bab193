"""The auditor's search: instances by process, version, status, business key, person, node, dates, outcome
and the data their forms took; one query both the pages and the API (and the exports) run.

A query is parsed once from a query string (``parse``: field-level errors for anything it cannot use) into
an ``AuditQuery``, which the store turns into conditions on ``process_instance``
(``bpm/store/repositories/audit_search.py``): none of them reads the history table, the largest one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bpm.engine import NodeRole, role_of
from bpm.errors import InvalidRequest
from bpm.runtime.actors import Actor
from bpm.runtime.paging import digits
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import ProcessInstance
from bpm.store.repositories.audit_search import DATA_PREFIX, AuditQuery, DataFilter
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import InstanceStatus

ROLES = ("any", "started", "acted", "assigned")
PLAIN = ("q", "process", "version", "status", "businessKey", "person", "role", "node", "from", "to", "outcome")
MAX_DATA_FILTERS = 5


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


MIN_WORDS = 3  # a trigram: fewer letters match too much to be worth an answer, and no index helps


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
    words = read.text("q", 200)
    if words is not None and len(words) < MIN_WORDS:
        read.errors["q"] = [f"at least {MIN_WORDS} characters"]
    query = AuditQuery(process=process, version=version,
                       status=status, business_key=read.text("businessKey"), person=read.text("person", 100),
                       role=role, node=node, started_from=started_from, started_to=started_to,
                       outcome=read.text("outcome"), data=tuple(data), words=words)
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


# --- what the pages and the API call -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    """One instance as the search lists it."""

    instance: ProcessInstance
    held: bool


def with_start_nodes(rt: Runtime, uow: UnitOfWork, query: AuditQuery) -> AuditQuery:
    """``query`` with the start nodes of its process's versions, where form-data filters look (by role)."""
    if not query.data:
        return query
    starts = {str(n.get("id")) for n in uow.definitions.nodes_of(query.process or "")
              if role_of(rt.node_types.get(str(n.get("type")))) == NodeRole.START}
    return replace(query, start_nodes=tuple(sorted(starts)))


def search(rt: Runtime, uow: UnitOfWork, actor: Actor, query: AuditQuery, page: int, page_size: int,
           ) -> tuple[list[Found], int]:
    """One page of matching instances, newest first, and how many match in all. Auditors and admins."""
    require(actor, Action.INSTANCE_READ_ALL)
    rows, total = uow.audit_search.page(with_start_nodes(rt, uow, query), page, page_size)
    return [Found(row, held) for row, held in rows], total


@dataclass(frozen=True)
class FormField:
    """A field the process's forms name, for choosing in the search form."""

    name: str
    title: str
    numeric: bool


def form_fields(rt: Runtime, uow: UnitOfWork, process: str) -> list[FormField]:
    """The fields of every form the process's versions use (start and tasks), by name."""
    form_ids = {n["data"].get("form") for n in uow.definitions.nodes_of(process) if isinstance(n.get("data"), dict)}
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
    return uow.definitions.names()
