"""Task actions: complete (which resumes the instance), claim, unclaim, delegate, reassign, comment; reading one.

Each action asks ``bpm.runtime.policy`` first, with the facts of this task
(``bpm.runtime.access``), and changes nothing when refused. Everyone who acts
on a task becomes a participant of its instance, and may read it from then on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, NamedTuple

from bpm.engine import Snapshot, WorkflowEngine
from bpm.engine.snapshot import ERROR, PAUSED
from bpm.errors import ConcurrentWrite, ConflictError, InstanceMoved, InvalidRequest, shown
from bpm.forms import Form
from bpm.nodes import votes
from bpm.nodes.human_task import prefilled
from bpm.runtime import attachments, offers
from bpm.runtime.access import task_and_instance, task_facts
from bpm.runtime.actors import Actor, find_actor
from bpm.runtime.advance import (
    EngineRun,
    add_task_event,
    cancel_pending_jobs,
    cancel_task,
    current_request,
    run_engine,
    save_advance,
)
from bpm.runtime.form_files import Upload, with_files
from bpm.runtime.form_files import keep as keep_files
from bpm.runtime.history import Deed
from bpm.runtime.instances import check_revision
from bpm.runtime.named_people import check_named_people
from bpm.runtime.policy import Action, AttachmentFacts, allows, may_delegate_someone, require, standing_in_for
from bpm.runtime.runtime import Runtime
from bpm.runtime.task_reasons import why_you_see
from bpm.runtime.transitions import TASK
from bpm.store.models import (
    Attachment,
    HistoryEntry,
    ProcessInstanceRecord,
    TaskComment,
    TaskRecord,
)
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import Cause, TaskStatus

MAX_COMMENT = 4000


def _bump(uow: UnitOfWork, task: TaskRecord, values: dict[str, Any]) -> None:
    """Version-checked task update (a lost race is a ConflictError, never a lost update); its offers follow."""
    was_claimable = offers.claimable(task)
    uow.tasks.update_open(task, values)
    offers.follow(uow, task, was_claimable)


def read_task(rt: Runtime, uow: UnitOfWork, actor: Actor, task_id: str) -> tuple[TaskRecord, ProcessInstanceRecord]:
    """A task the actor may read, with its instance; NotFound otherwise (existence does not leak)."""
    task, instance = task_and_instance(uow, task_id)
    require(actor, Action.TASK_READ, task_facts(rt, uow, actor, task, instance))
    return task, instance


def _acted(rt: Runtime, uow: UnitOfWork, actor: Actor, task: TaskRecord) -> None:
    uow.participants.join(task.instance_id, actor.username, rt.now())


MOVED_RETRIES = 5
"""How often a completion is tried again when another branch's step moved the instance on meanwhile."""


def complete_task(rt: Runtime, actor: Actor, task_id: str, outcome: str | None, data: Any,
                  expected_revision: int | None = None, uploads: Mapping[str, Upload] | None = None,
                  behalf_reason: str | None = None) -> tuple[TaskRecord, ProcessInstanceRecord, EngineRun | None]:
    """Complete a task with ``outcome`` and form ``data``, and advance its instance, in one transaction.

    A voter's task (``vote_of``) is one vote: the instance moves on only once
    the vote is decided (``bpm.nodes.votes``); until then the run is None.
    Two people completing two branches' tasks at once both succeed: the one
    whose instance moved on meanwhile (InstanceMoved, nobody's mistake) is
    done again on the new state, while a conflict on the task itself stays a
    conflict.

    ``behalf_reason``: an admin acts on behalf of whoever the task waits for
    (``Action.TASK_ACT_ON_BEHALF``), and says why; the history keeps both
    people and the reason.
    """
    reason = _behalf_reason(behalf_reason)
    for attempt in range(MOVED_RETRIES):
        try:
            return _complete(rt, actor, task_id, outcome, data, expected_revision, uploads, reason)
        except (InstanceMoved, ConcurrentWrite):  # PostgreSQL reports the first as the history's unique clash
            if attempt == MOVED_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


MAX_REASON = 1000


def _behalf_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON:
        raise InvalidRequest("say why you act on behalf", {
            "behalfReason": [f"say why you decide this for someone else (1 to {MAX_REASON} characters)"]})
    return text


def _complete(rt: Runtime, actor: Actor, task_id: str, outcome: str | None, data: Any,
              expected_revision: int | None, uploads: Mapping[str, Upload] | None = None,
              behalf_reason: str | None = None) -> tuple[TaskRecord, ProcessInstanceRecord, EngineRun | None]:
    with rt.uow() as uow:
        task, instance = task_and_instance(uow, task_id)
        engine = rt.engines.for_instance(uow, instance)
        require(actor, Action.TASK_ACT_ON_BEHALF if behalf_reason else Action.TASK_COMPLETE,
                task_facts(rt, uow, actor, task, instance, engine=engine))
        check_revision(task.revision, expected_revision, "the task")
        TASK.require("complete", task.status)
        if outcome is None and len(task.outcomes) == 1:
            outcome = task.outcomes[0]
        if outcome not in task.outcomes:
            raise InvalidRequest("unknown outcome", {"outcome": [f"must be one of: {', '.join(task.outcomes)}"]})
        form = rt.forms.get(task.form_id, task.form_version) if task.form_id else None
        data, files = with_files(rt, form, rt.forms.fill_actor(task.form_id, data, actor.username,
                                                               task.form_version), uploads)
        data = rt.forms.validate(task.form_id, data, outcome, task.form_version)
        check_named_people(rt, uow, form, data)
        before = Snapshot.from_dict(instance.snapshot, copy=False)  # fresh from the database
        if instance.status not in (PAUSED, ERROR) or task.node_id not in before.paused_at:
            raise ConflictError("the instance is no longer waiting for this task")
        now = rt.now()
        stand_in = standing_in_for(actor, task)
        for_whom = (task.assignee if behalf_reason else stand_in.person if stand_in is not None
                    else task.delegated_by)  # who is acted for, if anyone
        # Completing an unclaimed task claims it: the work stays listed as the completer's (offers.py).
        _bump(uow, task, {"status": TaskStatus.COMPLETED, "assignee": task.assignee or actor.username,
                          "delegated_by": task.delegated_by or for_whom,
                          "completed_by": actor.username, "completed_at": now, "outcome": outcome, "data": data})
        _acted(rt, uow, actor, task)
        keep_files(rt, uow, actor, instance.id, task.id, files)
        node_data = engine.workflow.nodes_by_id[task.node_id].data
        if node_data.get("escalations") or task.due_at is not None:
            cancel_pending_jobs(uow, instance.id, task_id=task.id)  # escalations of a done task never fire
        payload = {"outcome": outcome, "data": data, "completedBy": actor.username,
                   "completedAt": now.isoformat().replace("+00:00", "Z")}
        if for_whom is not None:
            payload["onBehalfOf"] = for_whom
        if task.item_index is not None:
            payload = {**payload, "itemResults": _item_results(uow, task, instance)}
        elif task.vote_of is not None:
            decided = _count_votes(rt, uow, actor, task, instance, node_data, payload, for_whom)
            if decided is None:
                uow.commit()
                return task, instance, None
            payload = decided
        run = run_engine(rt, engine, before, payload, resume=task.node_id)
        # Paused at this task's node: without branches this was its only open task, closed just now.
        deed = Deed(actor.username, Cause.TASK_COMPLETED, task.node_id, on_behalf_of=for_whom,
                    changes={"reason": [None, behalf_reason]} if behalf_reason else None)
        save_advance(rt, uow, instance, before, run, deed, tasks_may_exist=False)
        if task.item_index is not None and task.node_id not in run.snapshot.paused_at:
            for other in uow.tasks.of_vote(instance.id, task.vote_of or ""):  # decided: the other items' go
                if other.status == TaskStatus.OPEN:
                    cancel_task(rt, uow, other, actor.username, Cause.ITEMS_DECIDED)
        uow.commit()
        return task, instance, run


def _item_results(uow: UnitOfWork, task: TaskRecord, instance: ProcessInstanceRecord) -> list[dict[str, Any]]:
    """Every item's result so far (this task's last), for the node to decide on (``bpm.nodes.items``)."""
    done = sorted((t for t in uow.tasks.of_vote(instance.id, task.vote_of or "") if t.status == TaskStatus.COMPLETED),
                  key=lambda t: (t.id == task.id, t.completed_at or instance.started_at, t.id))
    return [{"index": t.item_index, "item": t.item, "by": t.completed_by, "outcome": t.outcome, "data": t.data or {},
             "at": t.completed_at.isoformat().replace("+00:00", "Z") if t.completed_at else None,
             **({"onBehalfOf": t.delegated_by} if t.delegated_by else {})} for t in done]


def _count_votes(rt: Runtime, uow: UnitOfWork, actor: Actor, task: TaskRecord, instance: ProcessInstanceRecord,
                 node_data: Any, vote: dict[str, Any], for_whom: str | None) -> dict[str, Any] | None:
    """After a vote: the node's payload once the vote is decided (the other voters' tasks cancelled), else None."""
    tasks = uow.tasks.of_vote(instance.id, task.vote_of or "")
    cast = sorted((t for t in tasks if t.status == TaskStatus.COMPLETED),  # in the order cast, this one last
                  key=lambda t: (t.id == task.id, t.completed_at or instance.started_at, t.id))
    decided = votes.decide([t.outcome or "" for t in cast], len(tasks), node_data.get("completion", "all"),
                           node_data.get("rejectPolicy", "first-rejects"), task.outcomes)
    if decided is None:
        add_task_event(rt, uow, task, Deed(actor.username, Cause.VOTE_CAST, changes={"vote": [None, vote["outcome"]]},
                                           on_behalf_of=for_whom))
        return None
    for other in tasks:
        if other.status == TaskStatus.OPEN:
            _bump(uow, other, {"status": TaskStatus.CANCELLED})
            cancel_pending_jobs(uow, instance.id, task_id=other.id)
    record = [{"by": t.completed_by, "outcome": t.outcome, "data": t.data or {},
               "at": t.completed_at.isoformat().replace("+00:00", "Z") if t.completed_at else None,
               **({"onBehalfOf": t.delegated_by} if t.delegated_by else {})} for t in cast]
    return {**vote, "outcome": decided, "data": {}, "votes": record}


def claim_task(rt: Runtime, actor: Actor, task_id: str, expected_revision: int | None = None) -> TaskRecord:
    """Take an unassigned task you are a candidate for (and may decide)."""
    with rt.uow() as uow:
        task, instance = task_and_instance(uow, task_id)
        facts = task_facts(rt, uow, actor, task, instance)
        require(actor, Action.TASK_READ, facts)
        check_revision(task.revision, expected_revision, "the task")
        TASK.require("change", task.status)
        if task.assignee is not None:
            raise ConflictError(f"the task is already claimed by {task.assignee}")
        require(actor, Action.TASK_CLAIM, facts)
        # A substitute takes it for the one who is away: it stays theirs, so nothing moves back on their return.
        stand_in = standing_in_for(actor, task)
        taker = stand_in.person if stand_in is not None else actor.username
        _bump(uow, task, {"assignee": taker})
        _acted(rt, uow, actor, task)
        add_task_event(rt, uow, task, Deed(actor.username, Cause.TASK_CLAIMED, changes={"assignee": [None, taker]},
                                           on_behalf_of=None if stand_in is None else taker))
        uow.commit()
        return task


def unclaim_task(rt: Runtime, actor: Actor, task_id: str, expected_revision: int | None = None) -> TaskRecord:
    """Give a claimed task back to its candidates; a task with none cannot go back to "anyone" (reassign it)."""
    with rt.uow() as uow:
        task, instance = task_and_instance(uow, task_id)
        require(actor, Action.TASK_UNCLAIM, task_facts(rt, uow, actor, task, instance))
        check_revision(task.revision, expected_revision, "the task")
        TASK.require("change", task.status)
        if task.assignee is None:
            raise ConflictError("the task is not claimed")
        if not task.candidate_users and not task.candidate_groups:
            raise ConflictError("this task was assigned directly and has no candidates to go back to; "
                                "delegate it, or ask an admin to reassign it")
        assignee = task.assignee
        stand_in = standing_in_for(actor, task)
        _bump(uow, task, {"assignee": None, "delegated_by": None})
        _acted(rt, uow, actor, task)
        add_task_event(rt, uow, task, Deed(actor.username, Cause.TASK_UNCLAIMED, changes={"assignee": [assignee, None]},
                                           on_behalf_of=stand_in.person if stand_in else None))
        uow.commit()
        return task


def _target(rt: Runtime, uow: UnitOfWork, to: str) -> Actor:
    target = find_actor(uow, to, rt.actors.roles_of_groups) if isinstance(to, str) and to else None
    if target is None:
        raise InvalidRequest("unknown user", {"to": [f"no active user {shown(to)}"]})
    return target


def check_delegation(rt: Runtime, actor: Actor, task_id: str, to: str) -> None:
    """Raise what ``delegate_task`` would refuse, changing nothing: a page asks before it confirms, so nobody
    confirms a hand-over the policy then refuses."""
    with rt.uow() as uow:
        TASK.require("change", _delegable(rt, uow, actor, task_id, to).status)


def _delegable(rt: Runtime, uow: UnitOfWork, actor: Actor, task_id: str, to: str) -> TaskRecord:
    task, instance = task_and_instance(uow, task_id)
    facts = task_facts(rt, uow, actor, task, instance)
    require(actor, Action.TASK_READ, facts)  # an unknown target must not reveal that a hidden task exists
    require(actor, Action.TASK_DELEGATE, replace(facts, target=_target(rt, uow, to)))
    return task


def delegate_task(rt: Runtime, actor: Actor, task_id: str, to: str,
                  expected_revision: int | None = None) -> TaskRecord:
    """Hand a task to someone who could have been offered it; they act on behalf of its first owner."""
    with rt.uow() as uow:
        task = _delegable(rt, uow, actor, task_id, to)
        check_revision(task.revision, expected_revision, "the task")
        TASK.require("change", task.status)
        stand_in = standing_in_for(actor, task)
        owner = task.delegated_by or task.assignee or (stand_in.person if stand_in else actor.username)
        assignee = task.assignee
        _bump(uow, task, {"assignee": to, "delegated_by": owner})
        _acted(rt, uow, actor, task)
        add_task_event(rt, uow, task, Deed(actor.username, Cause.TASK_DELEGATED, changes={"assignee": [assignee, to]},
                                           on_behalf_of=owner if owner != actor.username else None))
        uow.commit()
        return task


def reassign_task(rt: Runtime, actor: Actor, task_id: str, to: str, reason: str | None = None,
                  expected_revision: int | None = None) -> TaskRecord:
    """Admins: give an open task to another person (an orphan, or a directly assigned task nobody can take)."""
    with rt.uow() as uow:
        task, instance = task_and_instance(uow, task_id)
        require(actor, Action.TASK_REASSIGN, task_facts(rt, uow, actor, task, instance, target=_target(rt, uow, to)))
        check_revision(task.revision, expected_revision, "the task")
        TASK.require("change", task.status)
        assignee = task.assignee
        _bump(uow, task, {"assignee": to, "delegated_by": None})
        _acted(rt, uow, actor, task)
        changes: dict[str, list[Any]] = {"assignee": [assignee, to]}
        if reason and reason.strip():
            changes["reason"] = [None, reason.strip()]
        add_task_event(rt, uow, task, Deed(actor.username, Cause.TASK_REASSIGNED, changes=changes))
        uow.commit()
        return task


def comment_on_task(rt: Runtime, actor: Actor, task_id: str, body: str) -> TaskComment:
    """Add a remark to a task (open or not) you are related to."""
    text = (body or "").strip()
    with rt.uow() as uow:
        task, instance = task_and_instance(uow, task_id)
        require(actor, Action.TASK_COMMENT, task_facts(rt, uow, actor, task, instance))
        if not text or len(text) > MAX_COMMENT:
            raise InvalidRequest("invalid comment", {"body": [f"1 to {MAX_COMMENT} characters"]})
        comment = uow.tasks.add_comment(task_id, actor.username, text, rt.now())
        _acted(rt, uow, actor, task)
        add_task_event(rt, uow, task, Deed(actor.username, Cause.TASK_COMMENTED, changes={"comment": [None, text]}))
        uow.commit()
        return comment


def task_comments(uow: UnitOfWork, task_id: str) -> list[TaskComment]:
    """A task's comments, oldest first (check the reader with ``read_task`` first)."""
    return uow.tasks.comments(task_id)


def open_tasks_of(uow: UnitOfWork, instance_id: str) -> list[TaskRecord]:
    """The open tasks of one instance, oldest first."""
    return uow.tasks.open_of_instance(instance_id)


def _prefill(engine: WorkflowEngine, task: TaskRecord, request: dict[str, Any]) -> dict[str, Any]:
    node = engine.workflow.nodes_by_id.get(task.node_id)
    return prefilled(node.data, request) if node is not None and task.status == TaskStatus.OPEN else {}


def task_prefill(rt: Runtime, uow: UnitOfWork, task: TaskRecord, instance: ProcessInstanceRecord) -> dict[str, Any]:
    """The values an open task's form opens with: its node's ``prefill`` fields from the request as it stands."""
    engine = rt.engines.for_instance(uow, instance)
    return _prefill(engine, task, current_request(engine, instance))


class TaskView(NamedTuple):
    """Everything a task page shows, read in one unit of work, with what the policy lets the reader do."""

    task: TaskRecord
    instance: ProcessInstanceRecord
    process_name: str
    request_form: Form | None  # the start form, to label the request's data
    request: dict[str, Any]  # the request's data as it stands: the start form, with what steps wrote since
    prefill: dict[str, Any]  # the values this task's form opens with (its node's ``prefill``, from the request)
    decisions: list[TaskRecord]  # earlier steps' completed tasks, oldest first
    comments: list[TaskComment]
    may: frozenset[str]  # of "complete", "act-on-behalf", "claim", "unclaim", "delegate", "comment", "attach"
    definition: dict[str, Any]  # the version the instance runs, for its diagram
    history: list[HistoryEntry]  # the instance's, for those who may read the instance (else empty)
    files: list[Attachment]  # the instance's, for those who may read the instance (else empty)
    removable: frozenset[str]  # ids of the files on this task the reader may remove (the policy's answer)
    parent: ProcessInstanceRecord | None = None  # the request whose call step started this one, if any
    why: str | None = None  # why the reader sees it ("offered to your group finance"), the page's first line


def task_view(rt: Runtime, uow: UnitOfWork, actor: Actor, task_id: str) -> TaskView:
    """A task the actor may read, with the request it decides and what they may do with it (else NotFound)."""
    task, instance = task_and_instance(uow, task_id)
    engine = rt.engines.for_instance(uow, instance)
    facts = task_facts(rt, uow, actor, task, instance, engine=engine)
    require(actor, Action.TASK_READ, facts)
    start = engine.workflow.nodes_by_id.get(engine.start_id or "")
    form_id = start.data.get("form") if start is not None and isinstance(start.data, dict) else None
    request = current_request(engine, instance)
    prefill = _prefill(engine, task, request)
    is_open = task.status == TaskStatus.OPEN
    checks = {"complete": Action.TASK_COMPLETE, "comment": Action.TASK_COMMENT, "attach": Action.ATTACHMENT_ADD}
    may = {name for name, action in checks.items() if allows(actor, action, facts) and (is_open or name == "comment")}
    if is_open and "complete" not in may and allows(actor, Action.TASK_ACT_ON_BEHALF, facts):
        may.add("act-on-behalf")
    if is_open and may_delegate_someone(actor, facts):
        may.add("delegate")
    if is_open and task.assignee is None and allows(actor, Action.TASK_CLAIM, facts):
        may.add("claim")
    offered = bool(task.candidate_users or task.candidate_groups)
    if is_open and task.assignee is not None and offered and allows(actor, Action.TASK_UNCLAIM, facts):
        may.add("unclaim")
    decisions = [done for done in uow.tasks.completed_of_instance(instance.id) if done.id != task.id]
    reads_instance = allows(actor, Action.INSTANCE_READ, facts.instance)
    files = attachments.listed_for(uow, instance.id) if reads_instance else []
    removable = frozenset(f.id for f in files if f.task_id == task.id and allows(
        actor, Action.ATTACHMENT_REMOVE, AttachmentFacts(f.id, f.added_by, facts)))
    start_forms = rt.engines.forms_of(engine)
    history = uow.history.of_instance(instance.id, instance.started_at)
    return TaskView(task, instance, str(engine.workflow.name or instance.definition_key),
                    start_forms.get(form_id) if isinstance(form_id, str) and form_id in start_forms else None,
                    request, prefill, decisions, uow.tasks.comments(task.id), frozenset(may), engine.workflow.to_dict(),
                    history if reads_instance else [], files, removable,
                    uow.instances.get(instance.parent_id) if instance.parent_id else None,
                    why_you_see(actor, task, instance, history))
