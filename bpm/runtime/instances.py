"""Instance actions: start, cancel, retry; and the reads the API and web share."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple

from bpm.engine import Node, Snapshot, WorkflowEngine
from bpm.engine.expressions.reads import field_read
from bpm.engine.snapshot import ACTIVE, ERROR
from bpm.errors import (
    ConcurrentWrite,
    FormInvalid,
    InstanceMoved,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    shown,
)
from bpm.forms import Form
from bpm.nodes import TaskRequest
from bpm.runtime import calls, definitions, notices
from bpm.runtime.access import approval_rules, definition_facts, instance_facts, reader_of
from bpm.runtime.actors import Actor
from bpm.runtime.advance import (
    CANCELLED,
    EngineRun,
    add_history,
    cancel_pending_jobs,
    child_ended,
    insert_instance,
    run_engine,
    save_advance,
    write_instance,
)
from bpm.runtime.form_files import Upload, with_files
from bpm.runtime.form_files import keep as keep_files
from bpm.runtime.history import Deed
from bpm.runtime.named_people import check_named_people
from bpm.runtime.offers import withdraw_all_of_instance
from bpm.runtime.policy import Action, allows, barred_from, require
from bpm.runtime.runtime import Runtime
from bpm.runtime.search_words import words_of
from bpm.runtime.transitions import INSTANCE
from bpm.store.models import HistoryEntry, ProcessInstance, ProcessInstanceRecord, TaskRecord
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import Cause, JobKind

MAX_BUSINESS_KEY = 200
CANCEL_RETRIES = 20


def start_instance(rt: Runtime, actor: Actor, definition_key: str, payload: Any,
                   business_key: str | None = None, uploads: Mapping[str, Upload] | None = None
                   ) -> tuple[ProcessInstanceRecord, EngineRun]:
    """Start the newest published version of ``definition_key`` with the start form's ``payload``."""
    if business_key is not None and (not business_key.strip() or len(business_key) > MAX_BUSINESS_KEY):
        raise InvalidRequest("invalid business key", {"businessKey": [f"1 to {MAX_BUSINESS_KEY} characters"]})
    with rt.uow() as uow:
        definition_id, version = definitions.newest_published_ref(uow, definition_key)
        engine = rt.engines.for_version(uow, definition_id, definition_key, version)
        require(actor, Action.INSTANCE_START, definition_facts(definition_key, definitions.PUBLISHED,
                                                               engine.workflow.extra))
        start = engine.start_node
        form = start.data.get("form") if start is not None and isinstance(start.data, dict) else None
        forms = rt.engines.forms_of(engine)  # the form versions this version was published with
        payload, files = with_files(rt, forms.get(form) if isinstance(form, str) and form in forms else None,
                                    forms.fill_actor(form, payload, actor.username), uploads)
        payload = forms.validate(form, payload)  # 422, nothing written
        check_named_people(rt, uow, forms.get(form) if isinstance(form, str) and form in forms else None, payload)
        instance_id = str(uuid.uuid4())
        run = run_engine(rt, engine, engine.initial_snapshot(start.id, instance_id), payload)
        now = rt.now()
        instance = ProcessInstanceRecord(id=instance_id, definition_id=definition_id,
                                         definition_key=definition_key, definition_version=version,
                                         business_key=business_key, status="", snapshot={},
                                         started_by=actor.username, started_at=now, updated_at=now)
        _refuse_impossible_assignees(rt, uow, engine, start, instance, run)
        insert_instance(rt, uow, instance, run, actor.username)
        uow.instances.add_words(instance.id, words_of(business_key, payload))
        keep_files(rt, uow, actor, instance.id, None, files)
        uow.commit()
        return instance, run


def _refuse_impossible_assignees(rt: Runtime, uow: UnitOfWork, engine: WorkflowEngine, start: Node,
                                 instance: ProcessInstanceRecord, run: EngineRun) -> None:
    """A task the start form assigns to someone who cannot do it is a field error on that field (nothing is written).

    Nobody who exists, or the requester herself at a four-eyes step (naming
    yourself as your own approving manager). An assignee that does not come
    from the start form is let through; the admins' list of orphan tasks shows it.
    """
    form = start.data.get("form")
    instance.snapshot = run.snapshot.to_dict()  # the rules read the start form's data from it
    for effect in run.globals.effects.items:
        if not isinstance(effect, TaskRequest) or effect.assignee is None:
            continue
        template = engine.workflow.nodes_by_id[effect.node_id].data.get("assignee")
        field = field_read(template, start.id, start=True) if isinstance(template, str) else None
        if field is None:
            continue
        if not rt.actors.is_active_user(effect.assignee, uow):
            problem = f"no active user {shown(effect.assignee)}"
        else:
            problem = barred_from(effect.assignee, approval_rules(rt, engine, instance, effect.node_id))
        if problem is not None:
            raise FormInvalid(f"the data does not fit form {shown(form)}", {field: [problem]})


def get_instance(uow: UnitOfWork, instance_id: str) -> ProcessInstanceRecord:
    """One instance, or NotFound (no permission asked: for the runtime's own use)."""
    instance = uow.instances.get(instance_id)
    if instance is None:
        raise NotFound(f"no instance {shown(instance_id)}")
    return instance


def read_instance(uow: UnitOfWork, actor: Actor, instance_id: str) -> tuple[ProcessInstanceRecord, list[TaskRecord]]:
    """An instance the actor may read, with its open tasks; NotFound otherwise (existence does not leak)."""
    instance = get_instance(uow, instance_id)
    open_tasks = uow.tasks.open_of_instance(instance_id)
    require(actor, Action.INSTANCE_READ, instance_facts(uow, actor, instance, open_tasks))
    return instance, open_tasks


def running_children(uow: UnitOfWork, instance_id: str) -> list[ProcessInstanceRecord]:
    """The sub-processes of an instance that have not ended (what its call step waits for)."""
    return uow.instances.running_children(instance_id)


def check_revision(current: int, expected: int | None, what: str) -> None:
    """Honour ``If-Match``: PreconditionFailed if the caller saw an older revision."""
    if expected is not None and expected != current:
        raise PreconditionFailed(f"{what} is at revision {current}, not {expected}; reload it")


def cancel_instance(rt: Runtime, actor: Actor, instance_id: str, expected_revision: int | None = None,
                    reason: str | None = None) -> ProcessInstanceRecord:
    """Stop an unfinished instance: its open tasks and pending jobs are cancelled with it.

    Without ``expected_revision`` the cancel is of the instance as it stands whenever it lands: an instance
    that moved on meanwhile (a runaway loop moves on all the time) is read again and cancelled, so the cancel
    wins on the first try; with it, a moved instance is a 412 as for every versioned write.
    """
    for attempt in range(CANCEL_RETRIES):
        try:
            with rt.uow() as uow:
                instance = get_instance(uow, instance_id)
                require(actor, Action.INSTANCE_CANCEL,
                        instance_facts(uow, actor, instance, engine=rt.engines.for_instance(uow, instance)))
                check_revision(instance.revision, expected_revision, "the instance")
                INSTANCE.require("cancel", instance.status)
                _cancel(rt, uow, actor, instance, reason)
                uow.commit()
                return instance
        except (InstanceMoved, ConcurrentWrite):
            if expected_revision is not None or attempt == CANCEL_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _cancel(rt: Runtime, uow: UnitOfWork, actor: Actor, instance: ProcessInstanceRecord, reason: str | None,
            by_parent: bool = False) -> None:
    """Cancel one instance in ``uow``, and its running sub-processes unless their call says to leave them."""
    now = rt.now()
    _close_open_work(uow, instance.id)
    write_instance(uow, instance, {"status": CANCELLED, "ended_at": now, "updated_at": now, "error": reason})
    header = {key: value for key, value in instance.snapshot.items() if key != "context"}
    delta = {"header": header, "appended": {}, "instanceStatus": CANCELLED}
    add_history(rt, uow, instance, delta, Deed(actor.username, Cause.CANCELLED, instance.current_node_id,
                                               {"reason": [None, reason]} if reason else None), header["version"])
    engine = rt.engines.for_instance(uow, instance)
    if actor.username != instance.started_by:  # one who withdrew their own request knows
        notices.instance_event(rt, uow, instance, "cancelled", engine.workflow.extra,
                               str(engine.workflow.name or instance.definition_key))
    if instance.parent_id is not None and not by_parent:
        child_ended(rt, uow, instance)  # the parent's call step cannot go on: an incident for the admin
    for child in uow.instances.running_children(instance.id):
        if not calls.leaves_children(engine, child.parent_node_id):
            _cancel(rt, uow, actor, child, f"its parent request was cancelled ({reason or 'no reason given'})",
                    by_parent=True)


def _close_open_work(uow: UnitOfWork, instance_id: str) -> None:
    """Cancel an instance's open tasks (and their offers) and pending jobs.

    Rows are locked in the order every action takes them (tasks, their offers,
    jobs, then the instance): a completion and a cancel cannot deadlock.
    """
    uow.tasks.cancel_open_of_instance(instance_id)
    withdraw_all_of_instance(uow, instance_id)
    cancel_pending_jobs(uow, instance_id)


def repair_instance(rt: Runtime, actor: Actor, instance_id: str, reason: str, version: int | None = None,
                    node_id: str | None = None,
                    expected_revision: int | None = None) -> tuple[ProcessInstanceRecord, EngineRun]:
    """Move an unfinished or failed instance to ``version`` of its process and/or to ``node_id``, and run it there.

    For an instance a broken definition stranded: after a designer publishes a
    fixed version, the admin moves the instance onto it (at its current node,
    or a chosen one) and it runs again. Its open tasks and pending jobs are
    cancelled first; the history entry names the actor, the reason, and the old
    and new node and version.
    """
    with rt.uow() as uow:
        instance = get_instance(uow, instance_id)
        require(actor, Action.INSTANCE_REPAIR, instance_facts(uow, actor, instance))
        if not reason or not reason.strip():
            raise InvalidRequest("a repair needs a reason", {"reason": ["say why, for the history"]})
        check_revision(instance.revision, expected_revision, "the instance")
        INSTANCE.require("repair", instance.status)
        key, old_version = instance.definition_key, instance.definition_version
        target_version = version if version is not None else old_version
        definition = definitions.get_version(uow, key, target_version)
        if definition.status == definitions.DRAFT:
            raise InvalidRequest("not published", {"version": [f"version {target_version} is a draft; publish it"]})
        engine = rt.engines.for_definition(definition)
        before = Snapshot.from_dict(instance.snapshot, copy=False)
        target = node_id if node_id is not None else before.current_node_id
        if target not in engine.workflow.nodes_by_id:
            field = "node" if node_id is not None else "version"
            raise InvalidRequest("no such node", {field: [f"version {target_version} of {shown(key)} has no node "
                                                          f"{shown(target)}; name the node to move to"]})
        _close_open_work(uow, instance_id)
        metadata = {k: v for k, v in before.metadata.items() if k not in ("failedReason", "pausedReason")}
        moved = before._replace(status=ACTIVE, current_node_id=target, retry_state=None, metadata=metadata)
        run = run_engine(rt, engine, moved, None)
        changes = {"node": [before.current_node_id, target], "definitionVersion": [old_version, target_version],
                   "reason": [None, reason.strip()]}
        save_advance(rt, uow, instance, before, run, Deed(actor.username, Cause.REPAIRED, target, changes),
                     moved_to={"definition_id": definition.id, "definition_version": target_version})
        uow.commit()
        return instance, run


def retry_instance(rt: Runtime, actor: Actor, instance_id: str,
                   expected_revision: int | None = None) -> tuple[ProcessInstanceRecord, EngineRun]:
    """Run a failed or erroring instance's current node again, now, with fresh attempts."""
    with rt.uow() as uow:
        instance = get_instance(uow, instance_id)
        require(actor, Action.INSTANCE_RETRY, instance_facts(uow, actor, instance))
        check_revision(instance.revision, expected_revision, "the instance")
        INSTANCE.require("retry", instance.status)
        engine = rt.engines.for_instance(uow, instance)
        before = Snapshot.from_dict(instance.snapshot, copy=False)  # fresh from the database
        metadata = {k: v for k, v in before.metadata.items() if k not in ("failedReason", "pausedReason")}
        revived = before._replace(status=ERROR, retry_state=None, metadata=metadata)
        cancel_pending_jobs(uow, instance_id, kinds=(JobKind.RETRY,))
        run = run_engine(rt, engine, revived, None)
        save_advance(rt, uow, instance, before, run, Deed(actor.username, Cause.RETRIED, before.current_node_id))
        uow.commit()
        return instance, run


def list_instances(uow: UnitOfWork, actor: Actor, filters: dict[str, Any], page: int,
                   page_size: int) -> tuple[list[ProcessInstance], int]:
    """The instances the actor may read that match ``filters`` (status, definitionKey, businessKey, startedBy).

    Newest first.
    """
    require(actor, Action.INSTANCE_LIST)
    reader = reader_of(actor)
    if filters.get("started_by") == actor.username:  # one's own: readable by the rule
        reader = None
    return uow.instance_lists.page(reader, filters, page, page_size)


def instance_history(uow: UnitOfWork, actor: Actor, instance_id: str) -> list[HistoryEntry]:
    """Every revision and task event of an instance the actor may read, oldest first (else NotFound)."""
    instance = get_instance(uow, instance_id)
    require(actor, Action.INSTANCE_READ, instance_facts(uow, actor, instance))
    return uow.history.of_instance(instance_id, instance.started_at)


class StartForm(NamedTuple):
    """What starting a process asks for: its name and start form (None: it takes no input)."""

    key: str
    name: str
    form: Form | None
    description: str | None


def withdrawable(rt: Runtime, uow: UnitOfWork, actor: Actor, instance: ProcessInstanceRecord) -> bool:
    """Whether the actor may cancel this instance now (for offering the button; cancel_instance checks again)."""
    if not INSTANCE.allows("cancel", instance.status):
        return False
    facts = instance_facts(uow, actor, instance, engine=rt.engines.for_instance(uow, instance))
    return allows(actor, Action.INSTANCE_CANCEL, facts)


MAX_WITHDRAW_REASON = 1000
WITHDRAWN = "withdrawn by the requester"


def to_withdraw(rt: Runtime, uow: UnitOfWork, actor: Actor, instance_id: str) -> ProcessInstanceRecord:
    """A request the actor may withdraw now, for the page that asks "are you sure?" (else NotFound: whoever may
    not withdraw it is not told it is there)."""
    instance = uow.instances.get(instance_id)
    if instance is None or not withdrawable(rt, uow, actor, instance):
        raise NotFound(f"no request {shown(instance_id)} to withdraw")
    return instance


def withdraw_request(rt: Runtime, actor: Actor, instance_id: str, reason: str | None = None) -> ProcessInstanceRecord:
    """Cancel a request on its requester's word, with the reason she gave (recorded as the instance's error and in
    its history, as every cancel's reason is)."""
    said = (reason or "").strip()
    if len(said) > MAX_WITHDRAW_REASON:
        raise InvalidRequest("reason too long", {"reason": [f"at most {MAX_WITHDRAW_REASON:,} characters"]})
    return cancel_instance(rt, actor, instance_id, reason=f"{WITHDRAWN}: {said}" if said else WITHDRAWN)


def start_form(rt: Runtime, uow: UnitOfWork, actor: Actor, definition_key: str) -> StartForm:
    """The start form of the process's newest published version, for someone who may start it (else NotFound)."""
    definition_id, version = definitions.newest_published_ref(uow, definition_key)
    engine = rt.engines.for_version(uow, definition_id, definition_key, version)
    require(actor, Action.INSTANCE_START, definition_facts(definition_key, definitions.PUBLISHED,
                                                           engine.workflow.extra))
    start = engine.start_node
    form_id = start.data.get("form") if start is not None and isinstance(start.data, dict) else None
    description = engine.workflow.extra.get("description")
    return StartForm(definition_key, engine.workflow.name or definition_key,
                     rt.engines.forms_of(engine).get(form_id) if isinstance(form_id, str) else None,
                     description if isinstance(description, str) else None)
