"""One request, as its requester follows it: its data as it stands, where it is, whom and what it waits for
(people since when, a timer until when), the comments and files of all its steps, and how it ended.

Read in one unit of work for whoever may read the instance (the requester above all; the policy says who).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bpm.engine import WorkflowEngine
from bpm.errors import ConflictError
from bpm.forms import Form
from bpm.runtime import attachments, instances, tasks
from bpm.runtime.access import task_facts
from bpm.runtime.actors import Actor
from bpm.runtime.advance import current_request
from bpm.runtime.policy import Action, allows
from bpm.runtime.runtime import Runtime
from bpm.store.models import Attachment, HistoryEntry, ProcessInstanceRecord, TaskComment, TaskRecord
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import request_state


@dataclass(frozen=True)
class TimerWait:
    """A timer the request waits on: at which step, and until when."""

    node_id: str
    label: str
    due_at: dt.datetime


@dataclass(frozen=True)
class RequestView:
    instance: ProcessInstanceRecord
    process_name: str
    request_form: Form | None  # the start form, to label the data
    request: dict[str, Any]  # the data as it stands: the start form, with what steps wrote since
    waiting_for: Sequence[TaskRecord]  # its open tasks: whom it waits for, since when
    timers: Sequence[TimerWait]
    children: Sequence[tuple[ProcessInstanceRecord, str]]  # running sub-requests a call step waits for
    decisions: Sequence[TaskRecord]  # completed steps, oldest first
    comments: Sequence[tuple[TaskComment, str]]  # with the title of the step each was made on
    files: Sequence[Attachment]
    history: Sequence[HistoryEntry]
    definition: dict[str, Any]  # the version it runs, for the diagram
    may_withdraw: bool
    comment_on: TaskRecord | None  # the open step the reader's comment goes to (None: they may not comment now)

    @property
    def state(self) -> str:
        """How it stands, in a word: its outcome once it has one, else its status's word."""
        return request_state(self.instance.status, self.instance.outcome)


def request_view(rt: Runtime, uow: UnitOfWork, actor: Actor, instance_id: str) -> RequestView:
    """The request ``instance_id`` as ``actor`` may read it (NotFound otherwise: existence does not leak)."""
    instance, waiting = instances.read_instance(uow, actor, instance_id)
    engine = rt.engines.for_instance(uow, instance)
    workflow = engine.workflow
    start = engine.start_node
    form_id = start.data.get("form") if start is not None and isinstance(start.data, dict) else None
    forms = rt.engines.forms_of(engine)
    children = [(child, child.definition_key) for child in instances.running_children(uow, instance.id)] \
        if not waiting else []
    labels = {node.id: str((node.metadata or {}).get("label") or node.id) for node in workflow.nodes}
    timers = [TimerWait(job.node_id or "", labels.get(job.node_id or "", job.node_id or ""), job.due_at)
              for job in uow.jobs.waiting_timers(instance.id)]
    comment_on = _step_to_comment_on(rt, uow, actor, instance, waiting, engine)
    return RequestView(
        instance, str(workflow.name or instance.definition_key),
        forms.get(form_id) if isinstance(form_id, str) and form_id in forms else None,
        current_request(engine, instance), waiting, timers, children,
        uow.tasks.completed_of_instance(instance.id), uow.tasks.comments_of_instance(instance.id),
        attachments.listed_for(uow, instance.id), uow.history.of_instance(instance.id, instance.started_at),
        workflow.to_dict(),
        instances.withdrawable(rt, uow, actor, instance), comment_on)


def _step_to_comment_on(rt: Runtime, uow: UnitOfWork, actor: Actor, instance: ProcessInstanceRecord,
                        waiting: Sequence[TaskRecord], engine: WorkflowEngine | None = None) -> TaskRecord | None:
    """The open step a comment on the request goes to (whoever decides it reads it): the first the policy lets
    the actor comment on; None when nothing waits for a decision."""
    return next((task for task in waiting if allows(actor, Action.TASK_COMMENT,
                                                    task_facts(rt, uow, actor, task, instance, engine=engine))), None)


def comment_on_request(rt: Runtime, actor: Actor, instance_id: str, body: str) -> TaskComment:
    """A comment on a request, made on the step it waits at (ConflictError when none waits); for the request's
    page and any other door alike."""
    with rt.uow() as uow:
        instance, waiting = instances.read_instance(uow, actor, instance_id)
        target = _step_to_comment_on(rt, uow, actor, instance, waiting)
    if target is None:
        raise ConflictError("nothing is waiting for a decision now, so there is no step to comment on")
    return tasks.comment_on_task(rt, actor, target.id, body)
