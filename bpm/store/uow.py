"""One unit of work per request or job: a connection whose transaction commits everything or nothing."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any

from psycopg import ClientCursor
from psycopg.pq import TransactionStatus
from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable
from sqlmodel import SQLModel

from bpm.errors import ConcurrentWrite, ConflictError
from bpm.store import wakeups
from bpm.store.direct import CompiledForDriver, DirectStatement, QueuedWrite, prepare_once, send_writes
from bpm.store.models import RECORD_TABLES, metadata

if TYPE_CHECKING:
    from bpm.store.objects import Objects
    from bpm.store.repositories import (
        AuditEventRepository,
        CredentialRepository,
        DefinitionRepository,
        HistoryRepository,
        InstanceRepository,
        JobRepository,
        OfferRepository,
        OutboxRepository,
        ParticipantRepository,
        PeopleRepository,
        TaskRepository,
    )
    from bpm.store.repositories.absences import AbsenceRepository
    from bpm.store.repositories.anchors import AnchorRepository
    from bpm.store.repositories.attachments import AttachmentRepository
    from bpm.store.repositories.audit_search import AuditSearchRepository
    from bpm.store.repositories.forms import FormRepository
    from bpm.store.repositories.instance_lists import InstanceListRepository
    from bpm.store.repositories.notices import NoticeRepository
    from bpm.store.repositories.people import SavedViewRepository
    from bpm.store.repositories.retention import RetentionRepository
    from bpm.store.repositories.task_lists import TaskListRepository

logger = logging.getLogger(__name__)
_IDLE = TransactionStatus.IDLE


class StoreBug(RuntimeError):
    """The database refused a write for a reason no caller can fix (not a concurrent change): a bug."""


def is_unique_violation(error: BaseException) -> bool:
    """True if ``error`` (SQLAlchemy's or the driver's) is a unique or primary-key clash."""
    driver_error = getattr(error, "orig", None) or error
    if getattr(driver_error, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    name = getattr(driver_error, "sqlite_errorname", "")
    if name:
        return name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")
    return str(driver_error).startswith("UNIQUE constraint failed")
# Python-side column defaults (Field(default=...)), for rows queued as plain values.
_DEFAULTS = {table: {column.name: column.default.arg for column in table.columns
                     if column.default is not None and column.default.is_scalar}
             for table in metadata.sorted_tables}


_inserts: dict[tuple[Table, tuple[str, ...]], DirectStatement] = {}


def _insert_of(table: Table, columns: tuple[str, ...]) -> DirectStatement:
    """The INSERT of ``columns`` into ``table``, built once (inline: no generated key is read back)."""
    statement = _inserts.get((table, columns))
    if statement is None:
        statement = _inserts[(table, columns)] = DirectStatement(insert(table).inline(), insert_columns=columns)
    return statement


class UnitOfWork:
    """``with uow:`` holds one connection and its transaction; leaving without ``commit()`` rolls back.

    The hot path (every step of every instance) reads with DirectStatements
    and gets plain records; other Core statements go through ``execute``; the
    ORM ``session`` is made only when an action wants model objects. All
    three share the one transaction.

    Writes of the hot path (``insert``, ``insert_values``, ``write``) are
    queued in the order given and sent together, in one round trip on
    PostgreSQL, when the unit commits or before its next read (so reads see
    them, as with the ORM's autoflush). A write queued with a ``conflict``
    message must change exactly one row: the optimistic lock. If it changes
    none, the unit raises ConflictError with that message and is rolled
    back; like an ORM's version check, the lock is checked at flush.

    On PostgreSQL the transaction begins with the unit's first write (its
    BEGIN travels with the writes) or first use of ``execute``, ``session``
    or a row-locking read (FOR UPDATE); other DirectStatement reads before
    that run in autocommit. Under READ COMMITTED every statement sees what
    was committed when it began, inside a transaction or not, so this
    changes no result and saves a round trip per unit. SQLite begins at
    first use (BEGIN IMMEDIATE: writers queue instead of failing to upgrade
    a read lock).
    """

    def __init__(self, db: Engine, session_factory: sessionmaker[Session], prepares: bool = True) -> None:
        self._db = db
        self.prepares = prepares  # PostgreSQL: statements are PREPAREd (False behind a transaction pooler)
        self._factory = session_factory
        self.connection: Connection
        self._session: Session | None = None
        self._cursor: Any = None
        self._driver: Any = None
        self._begins_on_write = False
        self._writes: list[QueuedWrite] = []
        self.chain_heads: dict[str, tuple[int, str]] = {}  # history chains appended to in this unit (history.py)
        # Each chain head this unit has queued a write of and not sent yet: its values, which a later append
        # brings forward, so a head is written once per unit however many entries it appends (history.py).
        self.unsent_heads: dict[str, dict[str, Any]] = {}
        self._wakeups: dict[str, dt.datetime] = {}  # kind -> the soonest due time to notify workers of at commit

    # What the runtime may ask of the store, by intent (bpm.store.repositories); made on first use.
    @cached_property
    def definitions(self) -> DefinitionRepository:
        """Published definition versions."""
        from bpm.store.repositories import DefinitionRepository

        return DefinitionRepository(self)

    @cached_property
    def forms(self) -> FormRepository:
        """Form versions."""
        from bpm.store.repositories.forms import FormRepository

        return FormRepository(self)

    @cached_property
    def instances(self) -> InstanceRepository:
        """Instance rows."""
        from bpm.store.repositories import InstanceRepository

        return InstanceRepository(self)

    @cached_property
    def tasks(self) -> TaskRepository:
        """Task rows and comments."""
        from bpm.store.repositories import TaskRepository

        return TaskRepository(self)

    @cached_property
    def offers(self) -> OfferRepository:
        """Open offers of unclaimed tasks."""
        from bpm.store.repositories import OfferRepository

        return OfferRepository(self)

    @cached_property
    def credentials(self) -> CredentialRepository:
        """API tokens and sessions, as identifying a request reads them."""
        from bpm.store.repositories import CredentialRepository

        return CredentialRepository(self)

    @cached_property
    def participants(self) -> ParticipantRepository:
        """Who acted on which instance."""
        from bpm.store.repositories import ParticipantRepository

        return ParticipantRepository(self)

    @cached_property
    def people(self) -> PeopleRepository:
        """Users, groups and memberships."""
        from bpm.store.repositories import PeopleRepository

        return PeopleRepository(self)

    @cached_property
    def jobs(self) -> JobRepository:
        """Durable jobs."""
        from bpm.store.repositories import JobRepository

        return JobRepository(self)

    @cached_property
    def history(self) -> HistoryRepository:
        """History entries (append-only)."""
        from bpm.store.repositories import HistoryRepository

        return HistoryRepository(self)

    @cached_property
    def audit_events(self) -> AuditEventRepository:
        """The definitions-and-administration chain (append-only)."""
        from bpm.store.repositories import AuditEventRepository

        return AuditEventRepository(self)

    @cached_property
    def outbox(self) -> OutboxRepository:
        """Messages to deliver after commit."""
        from bpm.store.repositories import OutboxRepository

        return OutboxRepository(self)

    @cached_property
    def task_lists(self) -> TaskListRepository:
        """Pages of tasks: the inbox's, the API's and the admin page's lists."""
        from bpm.store.repositories.task_lists import TaskListRepository

        return TaskListRepository(self)

    @cached_property
    def instance_lists(self) -> InstanceListRepository:
        """Pages of instances a person may read."""
        from bpm.store.repositories.instance_lists import InstanceListRepository

        return InstanceListRepository(self)

    @cached_property
    def notices(self) -> NoticeRepository:
        """A person's notices and delivery settings."""
        from bpm.store.repositories.notices import NoticeRepository

        return NoticeRepository(self)

    @cached_property
    def absences(self) -> AbsenceRepository:
        """Who is away when, and who stands in for them."""
        from bpm.store.repositories.absences import AbsenceRepository

        return AbsenceRepository(self)

    @cached_property
    def saved(self) -> SavedViewRepository:
        """A person's saved views and searches."""
        from bpm.store.repositories.people import SavedViewRepository

        return SavedViewRepository(self)

    @cached_property
    def attachments(self) -> AttachmentRepository:
        """Files on a request."""
        from bpm.store.repositories.attachments import AttachmentRepository

        return AttachmentRepository(self)

    @cached_property
    def retention(self) -> RetentionRepository:
        """What retention and legal holds read and remove."""
        from bpm.store.repositories.retention import RetentionRepository

        return RetentionRepository(self)

    @cached_property
    def anchors(self) -> AnchorRepository:
        """Signed anchors and the chain heads' anchored marks."""
        from bpm.store.repositories.anchors import AnchorRepository

        return AnchorRepository(self)

    @cached_property
    def audit_search(self) -> AuditSearchRepository:
        """The auditor's search, its count and its exports' rows."""
        from bpm.store.repositories.audit_search import AuditSearchRepository

        return AuditSearchRepository(self)

    @cached_property
    def objects(self) -> Objects:
        """Model objects by primary key (get, add, remove): ``bpm.store.objects``."""
        from bpm.store.objects import Objects

        return Objects(self)

    def __enter__(self) -> UnitOfWork:
        self.connection = self._db.connect()
        self._driver = self.connection.connection.dbapi_connection
        self._session = None
        self._cursor = None
        self._writes = []
        self.unsent_heads.clear()
        self._wakeups = {}
        self._begins_on_write = self.dialect.name == "postgresql"
        if self._begins_on_write:
            self._driver.autocommit = True  # until the unit begins its transaction itself
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._writes = []
        self.unsent_heads.clear()
        self._wakeups = {}
        try:
            if self._cursor is not None:
                self._cursor.close()
                self._cursor = None
            if self._session is not None:
                self._session.expunge_all()  # loaded objects stay readable (for serialization) after the unit ends
                self._session.close()
                self._session = None
            self.connection.rollback()  # nothing to undo after a commit
            if self._begins_on_write and not self.connection.invalidated:  # (a lost connection is not pooled)
                self._driver.autocommit = False  # the pool's other users expect the driver's default
        finally:
            self.connection.close()

    @property
    def session(self) -> Session:
        """An ORM session on this unit's connection, inside its transaction (queued writes sent first)."""
        if self._writes:
            self.flush_writes()
        if self._session is None:
            self._begin(now=True)
            # rollback_only: the session never commits the unit's transaction; commit() below does.
            self._session = self._factory(bind=self.connection, join_transaction_mode="rollback_only")
        return self._session

    @property
    def dialect(self) -> Dialect:
        """The database dialect (DirectStatements are compiled for it)."""
        return self._db.dialect

    def cursor_for(self, compiled: CompiledForDriver, send_first: bool = True) -> Any:
        """The driver's cursor for a read of ``compiled``: every change made so far is sent first (unless not)."""
        if send_first:
            self._send_changes()
        if compiled.locks_rows:
            self._begin(now=True)  # a row lock taken in autocommit would be released at once
        cursor = self._transaction_cursor()
        if self.prepares:
            prepare_once(cursor, compiled, self._prepared())
        return cursor

    def _prepared(self) -> set[str]:
        """Names of the statements PREPAREd on this connection (kept with it in the pool; reset on reconnect)."""
        prepared: set[str] = self.connection.connection.info.setdefault("bpm_prepared", set())
        return prepared

    def _begin(self, now: bool = False) -> None:
        """Open the transaction: SQLAlchemy's (SQLite's BEGIN IMMEDIATE comes from it, see db._tune_sqlite)
        and, with ``now``, PostgreSQL's, which otherwise waits for the first write."""
        if not self.connection.in_transaction():
            self.connection.begin()
        if now and self._begins_on_write and not self._in_database_transaction():
            self._driver.execute("BEGIN")

    def _in_database_transaction(self) -> bool:
        return self._driver.info.transaction_status != _IDLE

    def _transaction_cursor(self) -> Any:
        if self._cursor is None:
            self._begin()
            # PostgreSQL: client-side binding, for batches of EXECUTEs of prepared statements (see direct.py)
            self._cursor = ClientCursor(self._driver) if self._begins_on_write else self._driver.cursor()
        return self._cursor

    def execute(self, statement: Executable, parameters: Mapping[str, Any] | list[dict[str, Any]] | None = None,
                ) -> CursorResult[Any]:
        """Run a Core statement in this unit's transaction, after the changes made so far."""
        self._send_changes()
        self._begin(now=True)
        with self._conflicts_reported():
            return self.connection.execute(statement, parameters)

    def insert(self, record: SQLModel) -> None:
        """Queue a new instance or task record."""
        table = RECORD_TABLES[type(record)]
        self._queue_insert(table, {column.name: getattr(record, column.key) for column in table.columns})

    def insert_values(self, model: type[SQLModel], **values: Any) -> dict[str, Any]:
        """Queue a new row given as column values (no object built: rows nobody reads back); the row's values,
        which are read when the unit sends its writes."""
        table: Table = model.__table__  # type: ignore[attr-defined]
        row = {**_DEFAULTS[table], **values}
        self._queue_insert(table, row)
        return row

    def _queue_insert(self, table: Table, row: dict[str, Any]) -> None:
        self._writes.append(QueuedWrite(_insert_of(table, tuple(row)), row))

    def write(self, statement: DirectStatement, values: Mapping[str, Any],
              conflict: str | ConflictError | None = None) -> None:
        """Queue a write; with ``conflict``, it must change exactly one row or the unit fails with that message."""
        self._writes.append(QueuedWrite(statement, values, conflict))

    def flush_writes(self, commit: bool = False) -> bool:
        """Send the queued writes now; with ``commit``, commit too where that costs no extra round trip.

        Returns whether the transaction was committed. ConflictError if an
        optimistic lock failed (nothing of this unit is committed then).
        """
        writes, self._writes = self._writes, []
        self.unsent_heads.clear()
        if not writes:
            return False
        with self._conflicts_reported():
            cursor = self._transaction_cursor()
            return send_writes(self.dialect, cursor, writes, commit,
                               begin=self._begins_on_write and not self._in_database_transaction(),
                               prepared=self._prepared() if self.prepares else None)

    @staticmethod
    def mark_written(record: SQLModel, values: Mapping[str, Any]) -> None:
        """Reflect a write made (or queued) by this unit in a record it loaded."""
        for key, value in values.items():
            setattr(record, key, value)

    def _send_changes(self) -> None:
        """Before a read: pending ORM changes and queued writes go to the database, so the read sees them."""
        if self._session is not None and (self._session.new or self._session.dirty or self._session.deleted):
            self.flush()
        if self._writes:
            self.flush_writes()

    def flush(self) -> None:
        """Send pending ORM changes now; a uniqueness clash with a concurrent writer is a ConflictError."""
        if self._session is not None:
            with self._conflicts_reported():
                self._session.flush()

    def wake_workers(self, kind: str, due: dt.datetime, now: dt.datetime) -> None:
        """At commit, tell listening workers that work of ``kind`` is due at ``due`` (bpm.store.wakeups): only on
        PostgreSQL, and only if that is sooner than they would look anyway."""
        if self._begins_on_write and due - now <= wakeups.HORIZON:
            known = self._wakeups.get(kind)
            self._wakeups[kind] = due if known is None or due < known else known

    def commit(self) -> None:
        """Make everything done in this unit permanent (ConflictError if a concurrent write got there first)."""
        for kind, due in self._wakeups.items():  # delivered by PostgreSQL at commit, with the batch
            self.write(wakeups.NOTIFY, {"channel": wakeups.CHANNEL, "payload": wakeups.payload(kind, due)})
        self._wakeups = {}
        with self._conflicts_reported():
            if self._session is not None:
                self._session.flush()
            self.flush_writes(commit=True)
            self.connection.commit()  # after a batch that committed, this only closes SQLAlchemy's transaction

    @contextmanager
    def _conflicts_reported(self) -> Iterator[None]:
        """A unique clash at write time means another transaction wrote the same thing first: a ConflictError.

        Any other violated constraint (NOT NULL, foreign key, check) is a bug in
        this code, not the caller's to retry: it is logged with its statement
        and raised as StoreBug (a 500). The driver's own IntegrityError comes
        from DirectStatements, SQLAlchemy's from everything else.
        """
        try:
            yield
        except (IntegrityError, self.dialect.loaded_dbapi.IntegrityError) as exc:
            if is_unique_violation(exc):
                raise ConcurrentWrite("a concurrent change conflicts with this one; reload and try again") from exc
            statement = getattr(exc, "statement", None) or "(a batch of direct statements)"
            logger.error("a constraint other than uniqueness failed: %s\nstatement: %s", exc, statement)
            raise StoreBug(f"the database refused a write ({type(getattr(exc, 'orig', exc)).__name__})") from exc
