"""What the service tells people, written into the outbox in the same transaction as the step that causes it.

Each notice is an outbox row (``kind``, recipients, subject, a plain-text
body, and the task or instance it is about); ``bpm.notify`` delivers it after
commit — e-mail, the bell, or a person's daily digest, as they chose — so a
step that rolls back tells nobody anything. Recipients are user names,
``group:NAME`` or e-mail addresses; webhook rows name URLs.

The kinds people can choose a delivery for are ``KINDS``; a process's own
``notify`` nodes write kind ``notify``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from bpm.runtime.actors import SYSTEM
from bpm.runtime.runtime import Runtime
from bpm.store.models import ProcessInstanceRecord, TaskRecord
from bpm.store.uow import UnitOfWork

KINDS: Mapping[str, str] = {  # kind -> what people read on their settings page
    "task-assigned": "A task is assigned to me",
    "task-offered": "A task is offered to my group",
    "reminder": "A reminder of a task waiting for me",
    "escalation": "A task escalated to me",
    "request-finished": "A request I made is finished",
    "notify": "Messages a process sends me",
}
MODES: Mapping[str, str] = {"now": "E-mail at once", "digest": "In a daily digest", "in-app": "Only in the bell"}
INSTANCE_EVENTS = ("started", "completed", "failed", "cancelled")  # what a definition's webhooks may subscribe to


def task_link(task_id: str) -> str:
    return f"/tasks/{task_id}"


def _queue(rt: Runtime, uow: UnitOfWork, kind: str, instance_id: str, node_id: str | None,
           recipients: Sequence[str], subject: str, body: str, task_id: str | None = None,
           channel: str = "email") -> None:
    if recipients:
        uow.outbox.add(str(uuid.uuid4()), instance_id, node_id, channel, list(dict.fromkeys(recipients)), subject,
                       body, kind, rt.now(), kind=kind, task_id=task_id)


def waiting_for(task: TaskRecord) -> list[str]:
    """Who a task waits for: its assignee, or the users and groups it is offered to."""
    if task.assignee:
        return [task.assignee]
    return [*task.candidate_users, *(f"group:{group}" for group in task.candidate_groups)]


def task_opened(rt: Runtime, uow: UnitOfWork, task: TaskRecord) -> None:
    """A new task: its assignee hears it is theirs, or its candidates that it is offered to them."""
    kind = "task-assigned" if task.assignee else "task-offered"
    said = "waits for you" if task.assignee else "is offered to you or your group: claim it to take it"
    _queue(rt, uow, kind, task.instance_id, task.node_id, waiting_for(task), task.title,
           f"“{task.title}” {said}.", task.id)


def reminded(rt: Runtime, uow: UnitOfWork, task: TaskRecord, due: bool = False) -> list[str]:
    """A reminder to whoever the task waits for (an escalation's ``remind``, or its due date come); says whom."""
    recipients = waiting_for(task)
    subject, said = ((f"Due now: {task.title}", f"“{task.title}” is due now.") if due else
                     (f"Reminder: {task.title}", f"“{task.title}” is still waiting for you."))
    _queue(rt, uow, "reminder", task.instance_id, task.node_id, recipients, subject, said, task.id)
    return recipients


def escalated(rt: Runtime, uow: UnitOfWork, task: TaskRecord, to: str) -> None:
    """A task given to someone else because it waited too long."""
    _queue(rt, uow, "escalation", task.instance_id, task.node_id, [to], f"Escalated to you: {task.title}",
           f"“{task.title}” waited too long and was passed to you.", task.id)


def instance_event(rt: Runtime, uow: UnitOfWork, instance: ProcessInstanceRecord, event: str,
                   definition: Mapping[str, Any], process_name: str) -> None:
    """An instance started or ended: its requester hears how it ended; subscribed webhooks hear either."""
    if event in ("completed", "failed", "cancelled") and instance.started_by not in ("", SYSTEM) \
            and ":" not in instance.started_by:  # the system and its workers (system:timer) have no inbox
        how = {"completed": f"finished: {instance.outcome}" if instance.outcome else "finished",
               "failed": "stopped with an error; an admin has been told", "cancelled": "was withdrawn"}[event]
        _queue(rt, uow, "request-finished", instance.id, None, [instance.started_by],
               f"Your request {how}: {process_name}", f"Your request “{process_name}”"
               f"{' (' + instance.business_key + ')' if instance.business_key else ''} {how}.")
    hooks = definition.get("webhooks") if isinstance(definition.get("webhooks"), list) else []
    urls = [hook["url"] for hook in hooks if isinstance(hook, dict) and isinstance(hook.get("url"), str)
            and event in (hook.get("events") or INSTANCE_EVENTS)]
    if urls:
        _queue(rt, uow, f"instance.{event}", instance.id, None, urls, f"instance.{event}", process_name,
               channel="webhook")
