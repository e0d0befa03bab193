"""The tables. Plain nouns for names; every timestamp is UTC-aware; JSON is JSONB on PostgreSQL.

The two rows every step reads and writes, instances and tasks, have a
*record* class holding their columns (``ProcessInstanceRecord``,
``TaskRecord``); the table class adds only the table. The runtime's hot path
reads and writes records without the ORM, whose objects cost far more to
build (one-off measurement in docs/service.md). Anything
typed as a record accepts the ORM object too (it is a subclass).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from bpm.forms.form import Form
from bpm.store.types import JsonColumn, UtcDateTime
from bpm.store.vocabulary import JobStatus, OutboxStatus


def _json(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(JsonColumn, nullable=True))
    return Field(sa_column=Column(JsonColumn, nullable=False))


def _when(nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(UtcDateTime(), nullable=True, index=index))
    return Field(sa_column=Column(UtcDateTime(), nullable=False, index=index))


class ProcessDefinition(SQLModel, table=True):
    """One numbered version of a process; immutable once published."""

    __tablename__ = "process_definition"
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_process_definition_key_version"),
        # At most one draft per process: two designers saving at once cannot both create one.
        Index("uq_process_definition_one_draft", "key", unique=True,
              postgresql_where=text("status = 'draft'"), sqlite_where=text("status = 'draft'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, index=True)
    version: int
    status: str = Field(max_length=20, index=True)  # draft | published | retired
    revision: int = Field(default=1, sa_column_kwargs={"server_default": "1"})  # counts writes; the ETag
    name: str = Field(max_length=200)
    body: dict = _json()
    checksum: str = Field(max_length=64)
    created_by: str = Field(max_length=100)
    created_at: dt.datetime = _when()
    updated_at: dt.datetime = _when()
    published_by: str | None = Field(default=None, max_length=100)
    published_at: dt.datetime | None = _when(nullable=True)
    retired_at: dt.datetime | None = _when(nullable=True)
    # Set at publish: the published version of each form the process names ({form id: version}), so a running
    # request keeps the forms it started with while designers publish new ones. None: before forms were data.
    form_versions: dict | None = _json(nullable=True)


class FormVersion(SQLModel, table=True):
    """One numbered version of a form (``{id, title, schema, rules, ui}``); immutable once published.

    The newest published version is what new processes pin; ``forms/*.json`` seed version 1.
    """

    __tablename__ = "form_version"
    __table_args__ = (
        Index("uq_form_version_one_draft", "form_id", unique=True,
              postgresql_where=text("status = 'draft'"), sqlite_where=text("status = 'draft'")),
    )

    form_id: str = Field(primary_key=True, max_length=100)
    version: int = Field(primary_key=True)
    status: str = Field(max_length=20, index=True)  # draft | published | retired
    revision: int = Field(default=1)  # counts writes of the draft; the ETag
    title: str = Field(max_length=200)
    schema_: dict = Field(sa_column=Column("schema", JsonColumn, nullable=False))
    rules: list = _json()
    ui: dict = _json()
    created_by: str = Field(max_length=100)
    created_at: dt.datetime = _when()
    updated_at: dt.datetime = _when()
    published_by: str | None = Field(default=None, max_length=100)
    published_at: dt.datetime | None = _when(nullable=True)

    def as_form(self) -> Form:
        """This version as the registry, the validation and the renderer use it."""
        return Form(self.form_id, self.title, self.schema_, tuple(self.rules), self.ui, self.version)


class ProcessInstanceRecord(SQLModel):
    """A process instance's columns: a running or finished process; ``snapshot`` is its engine state.

    ``revision`` counts every write and is the optimistic lock (and the ETag).
    """

    id: str = Field(primary_key=True, max_length=36)
    definition_id: int = Field(sa_column=Column(Integer, ForeignKey("process_definition.id"), nullable=False))
    definition_key: str = Field(max_length=100, index=True)
    definition_version: int
    business_key: str | None = Field(default=None, max_length=200, index=True)
    status: str = Field(max_length=20)  # active | paused | error | completed | failed | cancelled
    current_node_id: str | None = Field(default=None, max_length=200)
    snapshot: dict = _json()
    revision: int = Field(default=1)
    started_by: str = Field(max_length=100)
    started_at: dt.datetime = _when()
    updated_at: dt.datetime = _when()
    ended_at: dt.datetime | None = _when(nullable=True)
    outcome: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    purged_at: dt.datetime | None = _when(nullable=True)  # its data removed by retention (bpm/runtime/retention.py)
    parent_id: str | None = Field(default=None, max_length=36, index=True)  # the instance whose call started it
    parent_node_id: str | None = Field(default=None, max_length=200)  # the parent's call step that waits for it


class ProcessInstance(ProcessInstanceRecord, table=True):
    """The ``process_instance`` table."""

    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_status_started", "status", "started_at"),
        # "my requests", with or without a status: the status sits before the time so that both read only
        # the rows they list and count (migration 0004).
        Index("ix_process_instance_started_by_status", "started_by", "status", "started_at"),
        Index("ix_process_instance_ended", "ended_at"),  # retention finds what ended before a day
    )


class HistoryEntry(SQLModel, table=True):
    """One event of an instance: who, when, why, and what changed; append-only and hash-chained.

    A snapshot revision's ``delta`` holds the snapshot header and only the
    context results added since the previous revision; folding the deltas
    rebuilds any snapshot. A task event (claim, delegation, comment, ...) names
    its ``task_id`` and ``changes`` (field -> [old, new]) at the instance's
    current revision, with an empty delta and no snapshot version.
    """

    __tablename__ = "history_entry"
    __table_args__ = (
        Index("ix_history_entry_instance_revision", "instance_id", "revision"),
        # The instance fixes when it started, so these are as strict as (instance, revision) and (instance,
        # position); the start is in them because PostgreSQL partitions the table by it (bpm/store/partitions.py)
        # and a partitioned table's unique keys must hold its partition key.
        Index("uq_history_entry_snapshot_revision", "instance_id", "instance_started_at", "revision", unique=True,
              postgresql_where=text("task_id IS NULL"), sqlite_where=text("task_id IS NULL")),
        UniqueConstraint("instance_id", "instance_started_at", "position", name="uq_history_entry_chain_position"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    # No foreign key (as Camunda's history tables have none): the runtime writes an entry only with its
    # instance, instances are never deleted, and the chain's head says what each chain holds. On PostgreSQL a
    # key to the instances made attaching a month's partition lock them, in a cycle with the writers.
    instance_id: str = Field(sa_column=Column(String(36), nullable=False))
    # When the instance started (its ``started_at``): the month PostgreSQL keeps the entry in. Not hashed: the
    # instance says it, and an entry is where it is for storage, not for what it records.
    instance_started_at: dt.datetime = _when()
    revision: int
    at: dt.datetime = _when()
    actor: str = Field(max_length=100)
    cause: str = Field(max_length=40)  # started | task_completed | cancelled | retried | ...
    node_id: str | None = Field(default=None, max_length=200)
    status: str = Field(max_length=20)
    snapshot_version: int | None = None
    delta: dict = _json()
    task_id: str | None = Field(default=None, max_length=36)
    on_behalf_of: str | None = Field(default=None, max_length=100)
    changes: dict | None = _json(nullable=True)
    # The hash chain (bpm/store/chain.py): its place in the instance's chain, the entry before, itself.
    position: int | None = None
    prev_hash: str | None = Field(default=None, max_length=64)
    entry_hash: str | None = Field(default=None, max_length=64)


class AuditChainHead(SQLModel, table=True):
    """The last entry of each history chain: appends lock it, so two writers can never fork a chain."""

    __tablename__ = "audit_chain_head"

    chain: str = Field(primary_key=True, max_length=60)
    position: int
    entry_hash: str = Field(max_length=64)
    anchored: int | None = None  # the position the newest anchor signed (bpm/runtime/anchors.py)


class AuditEvent(SQLModel, table=True):
    """One definition or administrative event (published, retired, export made, purge, legal hold), chained.

    These have no instance to belong to, so they form their own chain (``ADMIN_CHAIN``), hashed and anchored
    like the instances' (bpm/store/chain.py); append-only on PostgreSQL too.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        UniqueConstraint("position", name="uq_audit_event_position"),
        Index("ix_audit_event_subject", "subject"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    position: int
    at: dt.datetime = _when()
    actor: str = Field(max_length=100)
    cause: str = Field(max_length=40)  # an AdminCause
    subject: str = Field(max_length=200)  # "definition:KEY:VERSION", "instance:ID", "export", ...
    details: dict = _json()
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64)


class LegalHold(SQLModel, table=True):
    """An instance retention may not purge, and why; set and lifted by auditors (both in the admin chain)."""

    __tablename__ = "legal_hold"

    instance_id: str = Field(sa_column=Column(String(36), ForeignKey("process_instance.id"), primary_key=True))
    reason: str = Field(max_length=500)
    set_by: str = Field(max_length=100)
    set_at: dt.datetime = _when()


class AuditAnchor(SQLModel, table=True):
    """The chains' heads at one moment, their Merkle root, and its Ed25519 signature by a key kept elsewhere."""

    __tablename__ = "audit_anchor"
    __table_args__ = (UniqueConstraint("previous", name="uq_audit_anchor_previous"),)

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _when()
    previous: str | None = Field(default=None, max_length=64)  # the anchor before's root (None: before 0017)
    heads: list = _json()  # [[chain, position, entry hash], ...] that moved since the anchor before, by chain
    root: str = Field(max_length=64)
    signature: str = Field(max_length=128)
    key_id: str = Field(max_length=16)  # the first 16 hex digits of the SHA-256 of the public key
    shipped_at: dt.datetime | None = _when(nullable=True)  # posted to BPM_AUDIT_ANCHOR_WEBHOOK (None: not yet)


class TaskRecord(SQLModel):
    """A human task's columns: created when an instance pauses at a ``human-task`` node.

    Candidate users and groups are on the row (for showing and checking a
    task in one read, and for good) and, while the task is open and
    unclaimed, in ``task_candidate`` (so that "offered to my groups" is an
    indexed read on both databases, not a JSON search).
    """

    id: str = Field(primary_key=True, max_length=36)
    instance_id: str = Field(sa_column=Column(String(36), ForeignKey("process_instance.id"), nullable=False,
                                              index=True))
    node_id: str = Field(max_length=200)
    definition_key: str = Field(max_length=100)
    title: str = Field(max_length=500)
    form_id: str | None = Field(default=None, max_length=100)
    form_version: int | None = Field(default=None)  # the version its process pinned (None: the newest published)
    assignee: str | None = Field(default=None, max_length=100)
    delegated_by: str | None = Field(default=None, max_length=100)  # whom the assignee acts for, once delegated
    vote_of: str | None = Field(default=None, max_length=36)  # the tasks of one vote with several voters share it
    item: Any = _json(nullable=True)  # forEach: the item of the list this task is for (with item_index)
    item_index: int | None = Field(default=None)
    # Fixed when the task is made; the same names are rows of task_candidate for the inbox's join.
    candidate_users: list = _json()
    candidate_groups: list = _json()
    outcomes: list = _json()
    priority: int = Field(default=50)
    due_at: dt.datetime | None = _when(nullable=True)
    status: str = Field(max_length=20)  # open | completed | cancelled
    revision: int = Field(default=1)
    created_at: dt.datetime = _when()
    completed_by: str | None = Field(default=None, max_length=100)
    completed_at: dt.datetime | None = _when(nullable=True)
    outcome: str | None = Field(default=None, max_length=100)
    data: dict | None = _json(nullable=True)
    # Who may not decide it (four-eyes: its requesters; distinctFrom: who decided those steps), fixed when it is
    # made; None when nobody is. The policy asks the instance itself; this is for "tasks nobody can act on".
    barred: list | None = _json(nullable=True)


class Task(TaskRecord, table=True):
    """The ``task`` table."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_status_assignee", "status", "assignee"),
        Index("ix_task_status_created", "status", "created_at"),
    )


class TaskCandidate(SQLModel, table=True):
    """An open offer: who may claim an unclaimed open task, one row per candidate user or group.

    Rows live only while their task is open and unclaimed (``bpm.runtime.offers``);
    the task row keeps its candidates for good. Each row carries the task's
    urgency (priority, due date, creation) and process key, so an inbox page
    is ordered and counted from these narrow rows and only its own tasks are
    read in full.
    """

    __tablename__ = "task_candidate"
    __table_args__ = (Index("ix_task_candidate_kind_name", "kind", "name"),)

    task_id: str = Field(sa_column=Column(String(36), ForeignKey("task.id", ondelete="CASCADE"), primary_key=True))
    kind: str = Field(primary_key=True, max_length=10)  # user | group
    name: str = Field(primary_key=True, max_length=100)
    definition_key: str = Field(max_length=100)
    priority: int
    due_at: dt.datetime | None = _when(nullable=True)
    created_at: dt.datetime = _when()
    # The task's ``barred`` (who may not decide it): a group's requester is not offered her own request.
    barred: list | None = _json(nullable=True)


class TaskComment(SQLModel, table=True):
    """A remark on a task, kept with the task's history."""

    __tablename__ = "task_comment"

    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(sa_column=Column(String(36), ForeignKey("task.id"), nullable=False, index=True))
    author: str = Field(max_length=100)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: dt.datetime = _when()


class Attachment(SQLModel, table=True):
    """A file added to a request while one of its tasks was open: a receipt, a quote, a signed form.

    The row is what lists and pages show; the bytes live in ``attachment_content`` and are read only to
    download, so a page listing twenty files never loads them. ``content_type`` is what the content was
    found to be (``bpm.runtime.attachments``), never what the uploader's browser claimed.
    """

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_instance", "instance_id", "added_at"),)

    id: str = Field(primary_key=True, max_length=36)
    instance_id: str = Field(sa_column=Column(String(36), ForeignKey("process_instance.id"), nullable=False))
    # The task it was added at (None: it came with the start form, as the value of a file field).
    task_id: str | None = Field(default=None, sa_column=Column(String(36), ForeignKey("task.id"), nullable=True))
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    added_by: str = Field(max_length=100)
    added_at: dt.datetime = _when()


class AttachmentContent(SQLModel, table=True):
    """An attachment's bytes (BYTEA on PostgreSQL), in the database so they commit and back up with the request."""

    __tablename__ = "attachment_content"

    attachment_id: str = Field(sa_column=Column(String(36), ForeignKey("attachment.id", ondelete="CASCADE"),
                                                primary_key=True))
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Participant(SQLModel, table=True):
    """Someone who acted on an instance (claimed, delegated, completed, commented): they may read it for good.

    The starter needs no row (``started_by``) and open work is read from the
    tasks and offers; this table keeps the relation once the work is done, so
    "instances I acted on" is one indexed read (``bpm.runtime.access``).
    """

    __tablename__ = "instance_participant"
    __table_args__ = (Index("ix_instance_participant_username", "username", "instance_id"),)

    instance_id: str = Field(sa_column=Column(String(36), ForeignKey("process_instance.id"), primary_key=True))
    username: str = Field(primary_key=True, max_length=100)
    since: dt.datetime = _when()


class Job(SQLModel, table=True):
    """Durable work for later: timers, retries, escalations and continuations."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # a JobKind
    instance_id: str = Field(sa_column=Column(String(36), ForeignKey("process_instance.id"), nullable=False,
                                              index=True))
    node_id: str | None = Field(default=None, max_length=200)
    task_id: str | None = Field(default=None, max_length=36, index=True)
    due_at: dt.datetime = _when()
    payload: dict = _json()
    status: str = Field(default=JobStatus.PENDING, max_length=20)  # a JobStatus
    attempts: int = Field(default=0)
    locked_by: str | None = Field(default=None, max_length=100)
    locked_until: dt.datetime | None = _when(nullable=True)
    created_at: dt.datetime = _when()
    fired_at: dt.datetime | None = _when(nullable=True)  # when a worker finished it (done, or found it moot)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class OutboxMessage(SQLModel, table=True):
    """A notification written in the same transaction as the step that caused it; sent after commit."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_created", "status", "created_at"),
                      Index("ix_outbox_message_status_next", "status", "next_attempt_at"))

    id: str = Field(primary_key=True, max_length=36)
    instance_id: str = Field(sa_column=Column(String(36), ForeignKey("process_instance.id"), nullable=False,
                                              index=True))
    node_id: str = Field(max_length=200)
    channel: str = Field(max_length=20)  # email | webhook | inbox
    recipients: list = _json()
    subject: str = Field(default="", max_length=500)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    template: str | None = Field(default=None, max_length=200)
    status: str = Field(default=OutboxStatus.PENDING, max_length=20)  # an OutboxStatus
    attempts: int = Field(default=0)
    created_at: dt.datetime = _when()
    sent_at: dt.datetime | None = _when(nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    kind: str = Field(default="notify", max_length=40)  # notify (a node's) | task-assigned | task-offered | ...
    task_id: str | None = Field(default=None, max_length=36)
    next_attempt_at: dt.datetime | None = _when(nullable=True)  # none: at once
    locked_by: str | None = Field(default=None, max_length=100)
    locked_until: dt.datetime | None = _when(nullable=True)
    delivered: list | None = _json(nullable=True)  # recipients reached so far: a retry skips them


class Notification(SQLModel, table=True):
    """A notice in one person's bell: what happened, a link to it, and whether they read it.

    ``(message_id, username)`` is unique: delivering an outbox message twice (a worker killed between
    writing and marking it sent) leaves one notice, not two.
    """

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_username_read", "username", "read_at", "created_at"),
                      UniqueConstraint("message_id", "username", name="uq_notification_message_username"))

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    username: str = Field(sa_column=Column(String(100), ForeignKey("bpm_user.username", ondelete="CASCADE"),
                                           nullable=False))
    kind: str = Field(max_length=40)
    title: str = Field(max_length=500)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, max_length=500)
    instance_id: str | None = Field(default=None, max_length=36)
    message_id: str = Field(max_length=36)
    created_at: dt.datetime = _when()
    read_at: dt.datetime | None = _when(nullable=True)
    digested_at: dt.datetime | None = _when(nullable=True)  # sent in a daily digest (or not to be)


class NotificationSetting(SQLModel, table=True):
    """How one person wants each kind of notice: e-mail now, in a daily digest, or only in the bell."""

    __tablename__ = "notification_setting"

    username: str = Field(sa_column=Column(String(100), ForeignKey("bpm_user.username", ondelete="CASCADE"),
                                           primary_key=True))
    modes: dict = _json()  # kind -> now | digest | in-app (a kind not named: now)
    last_digest_at: dt.datetime | None = _when(nullable=True)


class User(SQLModel, table=True):
    """A person who can sign in; ``roles`` among employee, designer, auditor, admin."""

    __tablename__ = "bpm_user"

    username: str = Field(primary_key=True, max_length=100)
    display_name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=200)
    roles: list = _json()
    active: bool = Field(default=True)
    created_at: dt.datetime = _when()
    password_hash: str | None = Field(default=None, max_length=200)  # argon2id; None: no local password
    oidc_subject: str | None = Field(default=None, max_length=300, unique=True)  # "issuer subject" of SSO users
    last_login_at: dt.datetime | None = _when(nullable=True)


class Group(SQLModel, table=True):
    """A team that tasks can be offered to (``candidateGroups``)."""

    __tablename__ = "bpm_group"

    name: str = Field(primary_key=True, max_length=100)
    display_name: str = Field(max_length=200)


class Membership(SQLModel, table=True):
    """User is in group."""

    __tablename__ = "membership"

    username: str = Field(sa_column=Column(String(100), ForeignKey("bpm_user.username", ondelete="CASCADE"),
                                           primary_key=True))
    group_name: str = Field(sa_column=Column(String(100), ForeignKey("bpm_group.name", ondelete="CASCADE"),
                                             primary_key=True, index=True))


class ProcessScenario(SQLModel, table=True):
    """A saved test run of a process: start data, the choices at each step, the clock moved, and the end it
    must reach. Every scenario of a process runs again when a draft of it is published."""

    __tablename__ = "process_scenario"

    key: str = Field(primary_key=True, max_length=100)  # the process key: scenarios outlive versions
    name: str = Field(primary_key=True, max_length=200)
    run: dict = _json()  # {start, steps, advance?}, as POST /api/definitions/simulate takes them
    expect: dict = _json()  # {status, outcome?, waitingAt?}
    created_by: str = Field(max_length=100)
    created_at: dt.datetime = _when()


class FormDraft(SQLModel, table=True):
    """A half-filled form a person saved (or left), per person and form: ``task:<id>`` or ``start:<process>``.

    ``fields`` holds what the browser posted, unvalidated (name -> list of values), so it comes back
    exactly as typed.
    """

    __tablename__ = "form_draft"

    username: str = Field(sa_column=Column(String(100), ForeignKey("bpm_user.username", ondelete="CASCADE"),
                                           primary_key=True))
    key: str = Field(primary_key=True, max_length=150)
    fields: dict = _json()
    saved_at: dt.datetime = _when()


class InstanceText(SQLModel, table=True):
    """What the auditor's word search reads of a request besides its steps' titles and decisions: its reference
    and the text its start form took, written once when it starts (``bpm.runtime.search_words``). On PostgreSQL
    a trigram index makes part of a word found fast; the instance row itself (rewritten at every step) carries
    no such index, so steps stay as fast as they were."""

    __tablename__ = "instance_text"

    instance_id: str = Field(sa_column=Column(String(36), ForeignKey("process_instance.id", ondelete="CASCADE"),
                                              primary_key=True))
    words: str = Field(sa_column=Column(Text, nullable=False))


class Absence(SQLModel, table=True):
    """A person away from ``starts_on`` to ``ends_on`` (both days included, in the company's time zone), and who
    stands in for them meanwhile (``bpm.runtime.absences``). Nothing moves: the substitute acts on the absent
    person's tasks on their behalf, so nothing has to move back."""

    __tablename__ = "absence"
    __table_args__ = (Index("ix_absence_substitute_ends", "substitute", "ends_on"),)

    id: str = Field(primary_key=True, max_length=36)
    person: str = Field(sa_column=Column(String(100), ForeignKey("bpm_user.username", ondelete="CASCADE"),
                                         nullable=False, index=True))
    substitute: str = Field(sa_column=Column(String(100), ForeignKey("bpm_user.username", ondelete="CASCADE"),
                                             nullable=False))
    starts_on: dt.date = Field(sa_column=Column(Date, nullable=False))
    ends_on: dt.date = Field(sa_column=Column(Date, nullable=False))
    processes: list | None = _json(nullable=True)  # the process keys it covers; None: every process
    existing_tasks: bool = Field(default=True)  # False: only tasks made after it began
    created_by: str = Field(max_length=100)
    created_at: dt.datetime = _when()


class SavedView(SQLModel, table=True):
    """A person's named inbox filter (the list's query string), offered on their inbox."""

    __tablename__ = "saved_view"

    username: str = Field(sa_column=Column(String(100), ForeignKey("bpm_user.username", ondelete="CASCADE"),
                                           primary_key=True))
    name: str = Field(primary_key=True, max_length=60)
    query: str = Field(max_length=1000)
    saved_at: dt.datetime = _when()


class SavedSearch(SQLModel, table=True):
    """An auditor's named search of the history (the query string of /audit)."""

    __tablename__ = "saved_search"

    username: str = Field(sa_column=Column(String(100), ForeignKey("bpm_user.username", ondelete="CASCADE"),
                                           primary_key=True))
    name: str = Field(primary_key=True, max_length=60)
    query: str = Field(max_length=2000)
    saved_at: dt.datetime = _when()


class ApiToken(SQLModel, table=True):
    """A bearer token: its public id, a SHA-256 of its secret (never the secret), scopes, expiry, revocation."""

    __tablename__ = "api_token"

    id: str = Field(primary_key=True, max_length=32)
    username: str = Field(sa_column=Column(String(100), ForeignKey("bpm_user.username", ondelete="CASCADE"),
                                           nullable=False, index=True))
    name: str = Field(max_length=100)
    secret_hash: str = Field(max_length=64)
    scopes: list = _json()
    created_at: dt.datetime = _when()
    expires_at: dt.datetime | None = _when(nullable=True)
    revoked_at: dt.datetime | None = _when(nullable=True)
    last_used_at: dt.datetime | None = _when(nullable=True)


class UserSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random id, this row its SHA-256, so logout and disabling end it."""

    __tablename__ = "user_session"

    id: str = Field(primary_key=True, max_length=64)
    username: str = Field(sa_column=Column(String(100), ForeignKey("bpm_user.username", ondelete="CASCADE"),
                                           nullable=False, index=True))
    created_at: dt.datetime = _when()
    last_seen_at: dt.datetime = _when()
    revoked_at: dt.datetime | None = _when(nullable=True)
    id_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # for RP-initiated logout


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per account (``user:NAME``) and per address (``addr:IP``) in the current window."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = Field(default=0)
    window_started_at: dt.datetime = _when()
    blocked_until: dt.datetime | None = _when(nullable=True)


class ReadPosition(SQLModel, table=True):
    """Where each person's last change left the primary's WAL (only with a read replica): their heavy reads go to
    the replica once it has replayed that far, whichever server process they reach (``bpm.store.replica``)."""

    __tablename__ = "read_position"

    username: str = Field(primary_key=True, max_length=100)
    wal_position: int = Field(sa_column=Column(BigInteger, nullable=False))
    written_at: dt.datetime = _when()


metadata = SQLModel.metadata

# The tables the runtime's Core statements name (SQLModel types __table__ loosely).
INSTANCE_TABLE: Table = ProcessInstance.__table__  # type: ignore[attr-defined]
TASK_TABLE: Table = Task.__table__  # type: ignore[attr-defined]
JOB_TABLE: Table = Job.__table__  # type: ignore[attr-defined]
CANDIDATE_TABLE: Table = TaskCandidate.__table__  # type: ignore[attr-defined]
PARTICIPANT_TABLE: Table = Participant.__table__  # type: ignore[attr-defined]

RECORD_TABLES: dict[type[SQLModel], Table] = {ProcessInstanceRecord: INSTANCE_TABLE, TaskRecord: TASK_TABLE}
