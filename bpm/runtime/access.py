"""The facts the policy decides on, loaded for one actor and target; and whose relations limit a list.

Facts that cost a query (an instance's open tasks, whether the actor acted
on it) are read only if a rule asks for them: the assignee completing their
own task pays for neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache
from typing import Any

from bpm.engine import WorkflowEngine
from bpm.errors import NotFound, shown
from bpm.runtime.actors import Actor
from bpm.runtime.policy import Action, ApprovalRules, DefinitionFacts, InstanceFacts, TaskFacts, allows, decides
from bpm.runtime.runtime import Runtime
from bpm.store.models import ProcessInstanceRecord, TaskRecord
from bpm.store.repositories.instance_lists import Reader
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import TaskStatus


def task_and_instance(uow: UnitOfWork, task_id: str) -> tuple[TaskRecord, ProcessInstanceRecord]:
    """A task and the instance it belongs to, in one round trip (NotFound if there is no such task)."""
    found = uow.tasks.with_instance(task_id)
    if found is None:
        raise NotFound(f"no task {shown(task_id)}")
    return found


def instance_facts(uow: UnitOfWork, actor: Actor, instance: ProcessInstanceRecord,
                   open_tasks: Sequence[TaskRecord] | None = None,
                   engine: WorkflowEngine | None = None) -> InstanceFacts:
    """What the policy needs about ``instance`` (``open_tasks`` if the caller read them already).

    ``engine``, the version it runs, tells whether its requester may withdraw it (for cancelling).
    """
    tasks = (lambda: open_tasks) if open_tasks is not None else cache(lambda: uow.tasks.open_of_instance(instance.id))
    may_cancel = engine is None or engine.workflow.extra.get("requesterMayCancel") is not False
    return InstanceFacts(instance, tasks, cache(lambda: uow.participants.has_acted(instance.id, actor.username)),
                         may_cancel)


def task_facts(rt: Runtime, uow: UnitOfWork, actor: Actor, task: TaskRecord, instance: ProcessInstanceRecord,
               target: Actor | None = None, engine: WorkflowEngine | None = None) -> TaskFacts:
    """What the policy needs about ``task``: its instance, the approval rules at its node, and a target person."""
    engine = engine or rt.engines.for_instance(uow, instance)
    rules = approval_rules(rt, engine, instance, task.node_id)
    # One person, one vote: whoever voted, or holds another of its tasks, is out (not for items: one task each).
    if task.vote_of is not None and task.item_index is None:
        others = [t for t in uow.tasks.of_vote(instance.id, task.vote_of) if t.id != task.id]
        voters = {t.completed_by for t in others if t.completed_by} | {t.assignee for t in others
                                                                          if t.assignee and t.status == TaskStatus.OPEN}
        rules = replace(rules, voters=frozenset(voters))
    return TaskFacts(task, instance_facts(uow, actor, instance), rules, target)


def definition_facts(key: str, status: str, body: Mapping[str, Any]) -> DefinitionFacts:
    """What the policy needs about one definition version."""
    startable_by = body.get("startableBy") if isinstance(body, Mapping) else None
    return DefinitionFacts(key, status, startable_by if isinstance(startable_by, Mapping) else None)


def four_eyes_at(process: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    """Whether four-eyes holds at a task with ``data`` in a process whose top-level keys are ``process``."""
    four_eyes = data.get("fourEyes")
    if isinstance(four_eyes, bool):
        return four_eyes
    return process.get("fourEyes") is not False and decides(data.get("outcomes") or ())


def approval_rules(rt: Runtime, engine: WorkflowEngine, instance: ProcessInstanceRecord,
                   node_id: str, context: Mapping[str, Any] | None = None) -> ApprovalRules:
    """Four-eyes and ``distinctFrom`` at ``node_id`` of this instance, from its definition and snapshot.

    Four-eyes holds where the node says ``fourEyes: true``, or says nothing and
    the process does not say ``fourEyes: false`` and the task decides (``policy.decides``). The
    requesters are the starter and the values of the start form's requester
    fields (``current-user`` fields, or fields marked ``x-bpm-requester``).
    """
    workflow = engine.workflow
    node = workflow.nodes_by_id[node_id]
    data = node.data if isinstance(node.data, Mapping) else {}
    four_eyes = four_eyes_at(workflow.extra, data)
    if context is None:  # the instance as stored (a step under way passes the context it has reached)
        context = instance.snapshot.get("context", {})
    requesters = {instance.started_by}
    start = engine.start_node
    form_id = start.data.get("form") if start is not None and isinstance(start.data, Mapping) else None
    forms = rt.engines.forms_of(engine)
    if four_eyes and isinstance(form_id, str) and form_id in forms:
        given = _last_output(context, start.id if start is not None else "")
        for name in forms.get(form_id).requester_fields:
            if isinstance(given.get(name), str):
                requesters.add(given[name])
    barred: dict[str, str] = {}
    for other in data.get("distinctFrom") or ():
        for run in context.get(other, ()):
            output = run.get("output")
            if not isinstance(output, Mapping):
                continue
            for who in (output.get("completedBy"), output.get("onBehalfOf")):  # a decision made for someone is
                if isinstance(who, str):                                     # theirs as well as the actor's
                    barred.setdefault(who, other)
    return ApprovalRules(four_eyes, frozenset(requesters), barred)


def barred_people(rules: ApprovalRules) -> list[str] | None:
    """Everyone ``rules`` bar from deciding, sorted (None: nobody), as a task row keeps them."""
    people = (set(rules.requesters) if rules.four_eyes else set()) | set(rules.barred)
    return sorted(people) or None


def _last_output(context: Mapping[str, Any], node_id: str) -> Mapping[str, Any]:
    runs = context.get(node_id) or ()
    output = runs[-1].get("output") if runs else None
    return output if isinstance(output, Mapping) else {}


def reader_of(actor: Actor) -> Reader | None:
    """Whose relations limit what ``actor`` may list (None: they read every instance)."""
    return None if allows(actor, Action.INSTANCE_READ_ALL) else Reader(actor.username, actor.groups)
