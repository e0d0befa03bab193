"""The auditor's search as SQL: conditions on ``process_instance`` for an ``AuditQuery``, a page of matches,
their count, and the rows of an export.

Every filter is either a column, an indexed relation (participants, tasks) or a path into the instance's own
snapshot (which nodes it passed, what its start form said), so nothing here reads the history table, the
largest one, except the export, which reads it for what it exports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, union
from sqlalchemy import select as select_rows
from sqlmodel import select

from bpm.store.models import AuditChainHead, HistoryEntry, InstanceText, LegalHold, ProcessInstance, Task
from bpm.store.paging import paginate
from bpm.store.repositories.history import CHAIN_ORDER, kept_where
from bpm.store.repositories.participants import ParticipantRepository

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

DATA_PREFIX = "data."
EXPORT_BATCH = 1000
H, INSTANCE, CH = HistoryEntry.__table__, ProcessInstance.__table__, AuditChainHead.__table__  # type: ignore[attr-defined]


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
    words: str | None = None  # part of a word: in the reference, the start form's text, step titles, decisions
    # Where the start form's data sits in a snapshot: the start nodes of the process's versions. The runtime
    # fills them in (a node's role is the registry's to say); never part of what was asked.
    start_nodes: tuple[str, ...] = field(default=(), compare=False)

    def as_params(self) -> list[tuple[str, str]]:
        """The query string pairs that ``parse`` reads back as this query (what saved searches keep)."""
        pairs = [("q", self.words), ("process", self.process), ("version", self.version), ("status", self.status),
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
    for wanted in query.data:
        found.append(_data_condition(json, list(query.start_nodes), wanted))
    if query.words:
        found.append(_words(query.words, json.postgres))
    return found


def _words(words: str, postgres: bool) -> ColumnElement[bool]:
    """Part of a word, any case, in what people wrote of a request: its reference and start form's text
    (``instance_text``), a step's title, a decision's text fields. On PostgreSQL each is a trigram-indexed
    function of its column (migration 0026: ``bpm_words``, ``bpm_decided_words``); SQLite reads them all, which
    is correct and slower."""
    pattern = "%" + words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

    def like(searched: Any) -> ColumnElement[bool]:
        return searched.like(pattern, escape="\\")  # type: ignore[no-any-return]

    if postgres:
        by_start = select(InstanceText.instance_id).where(like(func.bpm_words(InstanceText.words)))
        by_steps = select(Task.instance_id).where(or_(like(func.bpm_words(Task.title)),
                                                      like(func.bpm_decided_words(Task.data))))
    else:
        strings = func.json_tree(Task.data).table_valued("type", "value")
        decided = select(strings.c.value).where(strings.c.type == "text", like(func.lower(strings.c.value))).exists()
        by_start = select(InstanceText.instance_id).where(like(func.lower(InstanceText.words)))
        by_steps = select(Task.instance_id).where(or_(like(func.lower(Task.title)),
                                                      and_(Task.data.isnot(None), decided)))  # type: ignore[union-attr]
    # One set of ids (each part read by its own index), so a rare word is a few key lookups, not a scan
    return ProcessInstance.id.in_(union(by_start, by_steps))  # type: ignore[attr-defined]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _person(person: str, role: str) -> ColumnElement[bool]:
    started = ProcessInstance.started_by == person
    acted = ProcessInstance.id.in_(ParticipantRepository.instances_of(person))  # type: ignore[attr-defined]
    assigned = ProcessInstance.id.in_(select(Task.instance_id).where(  # type: ignore[attr-defined]
        or_(Task.assignee == person, Task.completed_by == person)))
    by_role = {"started": started, "acted": acted, "assigned": assigned}
    return by_role[role] if role in by_role else or_(started, acted, assigned)


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


class AuditSearchRepository:
    """``uow.audit_search``: what the auditor's search, its exports and its form read."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def _scope(self, query: AuditQuery | None, instance_id: str | None) -> list[ColumnElement[bool]]:
        if instance_id is not None:
            return [INSTANCE.c.id == instance_id]
        return conditions(self._uow, query or AuditQuery())

    def page(self, query: AuditQuery, page: int, page_size: int,
             ) -> tuple[list[tuple[ProcessInstance, bool]], int]:
        """One page of matching instances (each with whether it is under a legal hold), newest first, and how
        many match in all."""
        statement = select(ProcessInstance).where(and_(True, *conditions(self._uow, query)))
        rows, total = paginate(self._uow.session, statement,
                               (ProcessInstance.started_at.desc(), ProcessInstance.id), page, page_size)
        held = set(self._uow.session.exec(select(LegalHold.instance_id).where(
            LegalHold.instance_id.in_([r.id for r in rows])))) if rows else set()  # type: ignore[attr-defined]
        return [(row, row.id in held) for row in rows], total

    def count(self, query: AuditQuery | None, instance_id: str | None = None) -> int:
        """How many instances the query (or the one instance) matches."""
        matches = select_rows(INSTANCE.c.id).where(*self._scope(query, instance_id))
        return int(self._uow.execute(select_rows(func.count()).select_from(matches.subquery())).scalar_one())

    def export_rows(self, query: AuditQuery | None, instance_id: str | None = None) -> Iterator[Any]:
        """Every matching instance's history entries with the instance's columns and its chain's head, in chain
        order, streamed over a server-side cursor a thousand at a time (one instance's: read from its month)."""
        matches = select_rows(INSTANCE.c.id).where(*self._scope(query, instance_id))
        statement = (select_rows(H, INSTANCE.c.definition_key, INSTANCE.c.definition_version,
                                 INSTANCE.c.business_key, INSTANCE.c.status.label("instance_status"),
                                 CH.c.position.label("head_position"), CH.c.entry_hash.label("head_hash"))
                     .join(INSTANCE, (INSTANCE.c.id == H.c.instance_id)
                           & (INSTANCE.c.started_at == H.c.instance_started_at))
                     .outerjoin(CH, CH.c.chain == H.c.instance_id)
                     .where(*(kept_where(instance_id, None) if instance_id else [H.c.instance_id.in_(matches)]))
                     .order_by(*CHAIN_ORDER)
                     .execution_options(yield_per=EXPORT_BATCH, stream_results=True))
        yield from self._uow.execute(statement)
