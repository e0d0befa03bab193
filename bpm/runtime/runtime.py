"""The runtime's dependencies, built once by create_app (or a test) and passed to every action."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TypeVar
from weakref import WeakKeyDictionary

from bpm.calendars import CalendarRegistry
from bpm.config import Settings
from bpm.engine import Clock, Limits, NodeDefinition, WorkflowEngine
from bpm.errors import NotFound
from bpm.forms import Form, FormRegistry, Forms, PinnedForms
from bpm.nodes import build_node_types
from bpm.runtime.actors import Actor, ActorCache
from bpm.runtime.days import CompanyDays
from bpm.runtime.schemas import FastValidator
from bpm.store import UnitOfWork, make_engine, make_session_factory
from bpm.store.db import Database, SessionFactory
from bpm.store.models import ProcessDefinition, ProcessInstanceRecord
from bpm.store.replica import Replica, record_write
from bpm.store.vocabulary import DefinitionStatus

T = TypeVar("T")

class EngineCache:
    """WorkflowEngines by definition row and checksum: building one indexes the graph, so reuse it."""

    def __init__(self, forms: FormRegistry, node_types: dict[str, NodeDefinition], clock: Clock, limits: Limits,
                 size: int = 256) -> None:
        self._forms = forms
        self._node_types = node_types
        self._clock = clock
        self._limits = limits
        self._size = size
        self._engines: OrderedDict[tuple[int, str], WorkflowEngine] = OrderedDict()
        self._by_definition_id: dict[int, WorkflowEngine] = {}
        self._pinned: WeakKeyDictionary[WorkflowEngine, PinnedForms] = WeakKeyDictionary()
        self._lock = threading.Lock()

    def for_instance(self, uow: UnitOfWork, instance: ProcessInstanceRecord) -> WorkflowEngine:
        """The engine of the (immutable, published) version an instance is pinned to."""
        return self.for_version(uow, instance.definition_id, instance.definition_key, instance.definition_version)

    def for_version(self, uow: UnitOfWork, definition_id: int, key: str, version: int) -> WorkflowEngine:
        """The engine of a published (or retired) version; its body is read only on first use.

        The row id is checked against key and version, so a reused id (a wiped
        test database) can never hand out another process's engine.
        """
        with self._lock:
            engine = self._by_definition_id.get(definition_id)
        if engine is None or (engine.workflow.id, engine.workflow.version) != (key, version):
            definition = uow.definitions.row_by_id(definition_id)
            if definition is None:
                raise NotFound(f"no process definition {definition_id}")
            engine = self.for_definition(definition)
        return engine

    def clear(self) -> None:
        """Forget every engine (a test that empties the database reuses row ids for other rows)."""
        with self._lock:
            self._engines.clear()
            self._by_definition_id.clear()
            self._pinned.clear()

    def forms_of(self, engine: WorkflowEngine) -> Forms:
        """The forms as ``engine``'s process sees them: the versions it was published with."""
        return self._pinned.get(engine, self._forms)

    def for_definition(self, definition: ProcessDefinition) -> WorkflowEngine:
        """The engine for this stored definition version."""
        key = (definition.id or 0, definition.checksum)
        with self._lock:
            engine = self._engines.get(key)
            if engine is not None:
                self._engines.move_to_end(key)
                return engine
        node_types, forms = self._node_types, self._forms.pinned(definition.form_versions)
        if isinstance(forms, PinnedForms):  # its nodes validate with the forms it was published with
            node_types = {**node_types, **build_node_types(forms, self._clock)}
        engine = WorkflowEngine(definition.body, node_types, clock=self._clock, limits=self._limits,
                                validator=FastValidator())
        with self._lock:
            if isinstance(forms, PinnedForms):
                self._pinned[engine] = forms
            self._engines[key] = engine
            if definition.status != DefinitionStatus.DRAFT:  # published versions never change: found by id
                self._by_definition_id[definition.id or 0] = engine
            while len(self._engines) > self._size:
                (definition_id, _), _ = self._engines.popitem(last=False)
                self._by_definition_id.pop(definition_id, None)
        return engine


@dataclass
class Runtime:
    """Everything an action needs: settings, database, forms, node types, clock and engines."""

    settings: Settings
    db: Database
    sessions: SessionFactory
    forms: FormRegistry
    clock: Clock
    calendars: CalendarRegistry = field(default_factory=CalendarRegistry)
    units: Callable[[], UnitOfWork] | None = None  # where units of work come from (None: the database's)
    replica: Replica | None = None  # a streaming replica for the heavy reads (BPM_DATABASE_REPLICA_URL)
    node_types: dict[str, NodeDefinition] = field(init=False)
    engines: EngineCache = field(init=False)
    actors: ActorCache = field(init=False)
    days: CompanyDays = field(init=False)

    def __post_init__(self) -> None:
        self.node_types = build_node_types(self.forms, self.clock)
        self.engines = EngineCache(self.forms, self.node_types, self.clock, Limits(self.settings.max_output_bytes))
        self.days = CompanyDays(self.clock, self.settings.zone)
        self.actors = ActorCache(self.clock, roles_of_groups=self.settings.roles_of_groups, days=self.days)
        if self.forms.loader is None:
            self.forms.loader = self._stored_form

    def _stored_form(self, form_id: str, version: int) -> Form | None:
        """A published or retired form version this process has not seen (another server published it)."""
        if self.db is None:
            return None
        with self.uow() as uow:
            row = uow.forms.version(form_id, version)
            return row.as_form() if row is not None and row.status != DefinitionStatus.DRAFT else None

    def actor(self, username: str | None) -> Actor:
        """The signed-in user ``username`` (cached briefly), or Unauthorized."""
        return self.actors.get(self.uow, username)

    @classmethod
    def build(cls, settings: Settings, clock: Clock) -> Runtime:
        """Wire a runtime from settings: database engine, session factory, forms from disk."""
        db = make_engine(settings.database_url, settings.db_pool_size, settings.db_idle_ping_seconds)
        forms = FormRegistry.load(settings.forms_dir, today=CompanyDays(clock, settings.zone).today)
        calendars = CalendarRegistry.load(settings.calendars_dir)
        replica = Replica(settings.database_replica_url, settings.db_pool_size, settings.db_idle_ping_seconds,
                          prepares=not settings.database_pooler) if settings.database_replica_url else None
        return cls(settings=settings, db=db, sessions=make_session_factory(db), forms=forms, clock=clock,
                   calendars=calendars, replica=replica)

    def uow(self) -> UnitOfWork:
        """A new unit of work (use as ``with runtime.uow() as uow:``); a test may hand in its own (``units``)."""
        if self.units is not None:
            return self.units()
        return UnitOfWork(self.db, self.sessions, prepares=not self.settings.database_pooler)

    def now(self) -> dt.datetime:
        """The injected clock's time as an aware UTC datetime."""
        return dt.datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=dt.UTC)

    def read(self, actor: Actor, work: Callable[[UnitOfWork], T]) -> T:
        """A heavy read (a list, a search, an export): on the replica if there is one and it has replayed
        ``actor``'s last write, else on the primary. ``work`` must return what it read in full (its unit closes)."""
        if self.replica is None:
            with self.uow() as uow:
                return work(uow)
        return self.replica.read(actor.username, work, self.uow)

    def read_streaming(self, actor: Actor) -> AbstractContextManager[UnitOfWork]:
        """A unit for a heavy read that streams for as long as its reader takes (an export): on the replica as
        ``read`` says, chosen once at the start. (On the replica, set ``hot_standby_feedback = on``, or
        PostgreSQL cancels a read that outlasts ``max_standby_streaming_delay`` while the primary vacuums.)"""
        if self.replica is None:
            return self.uow()
        return self.replica.streaming(actor.username, self.uow)

    def note_write(self, username: str) -> None:
        """``username``'s change has committed: their heavy reads, through any server process, wait for the
        replica to replay the primary's WAL this far (nothing to note without a replica)."""
        if self.replica is None:
            return
        with self.uow() as uow:
            record_write(uow, username, self.now())

    def close(self) -> None:
        """Release database connections."""
        self.db.dispose()
        if self.replica is not None:
            self.replica.close()
