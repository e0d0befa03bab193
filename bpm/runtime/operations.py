"""What needs an operator, as the admin page shows it: instances that stopped, jobs that keep failing, messages that
could not be delivered, tasks nobody can act on, and which of the actions on them the reader may take.

One value (``Overview``) the page renders; each action it offers is the runtime's own (retry, cancel, repair,
reassign, resend), the same the API calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bpm.errors import InvalidRequest
from bpm.runtime import inbox, instances, jobs
from bpm.runtime.access import instance_facts
from bpm.runtime.actors import Actor
from bpm.runtime.paging import Page
from bpm.runtime.policy import Action, allows, may_reassign_tasks, require
from bpm.runtime.stuck_tasks import why_stuck
from bpm.runtime.transitions import INSTANCE, STOPPED
from bpm.store.models import Job, OutboxMessage, ProcessInstance, Task
from bpm.store.repositories.instance_lists import Reader
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import InstanceStatus

INSTANCE_ACTIONS = (("retry", Action.INSTANCE_RETRY), ("cancel", Action.INSTANCE_CANCEL),
                    ("repair", Action.INSTANCE_REPAIR))


@dataclass(frozen=True)
class Overview:
    stopped: Sequence[ProcessInstance]  # failed and erroring instances
    may: Mapping[str, frozenset[str]]  # instance id -> the actions the reader may take on it
    incidents: Sequence[Job]
    may_retry_job: frozenset[int]
    dead_letters: Sequence[OutboxMessage]
    may_resend: bool
    orphans: Sequence[Task]  # open tasks no one can act on (a page of them)
    orphan_total: int
    may_reassign: bool
    stuck: Mapping[str, str]  # orphan task id -> why nobody can act on it
    max_attempts: int = jobs.MAX_ATTEMPTS


def overview(uow: UnitOfWork, actor: Actor, listed: int = 50) -> Overview:
    """The admin page's content for ``actor`` (auditors read it; admins may act on it)."""
    require(actor, Action.INSTANCE_READ_ALL)
    stopped: list[ProcessInstance] = []
    for status in sorted(STOPPED):
        rows, _ = instances.list_instances(uow, actor, {"status": status}, 1, listed)
        stopped.extend(rows)
    may = {row.id: frozenset(name for name, action in INSTANCE_ACTIONS
                             if allows(actor, action, instance_facts(uow, actor, row))) for row in stopped}
    orphans, orphan_total = inbox.list_tasks(uow, actor, {"scope": "orphaned"}, 1, listed)
    incidents = jobs.incidents(uow, actor, listed)
    may_retry_job = frozenset(job.id for job in incidents if job.id is not None
                              and (found := uow.instances.get(job.instance_id)) is not None
                              and allows(actor, Action.INSTANCE_RETRY, instance_facts(uow, actor, found)))
    return Overview(stopped, may, incidents, may_retry_job, uow.outbox.dead_letters(listed),
                    allows(actor, Action.ACCOUNT_MANAGE), orphans, orphan_total, may_reassign_tasks(actor),
                    why_stuck(uow, orphans))


@dataclass(frozen=True)
class InstanceSearch:
    """The admins' one list of every instance: a page of those matching, and what the reader may do to each."""

    found: Page[ProcessInstance]
    may: Mapping[str, frozenset[str]]
    processes: Sequence[tuple[str, str]]  # (key, name) of every process, for the filter


SEARCHABLE = ("process", "status", "key", "person", "node")


def find_instances(uow: UnitOfWork, actor: Actor, asked: Mapping[str, str], page: int,
                   page_size: int) -> InstanceSearch:
    """Any instance by process, status, part of its reference, a person it involves, or a step it is at."""
    require(actor, Action.INSTANCE_READ_ALL)
    filters: dict[str, Any] = {}
    if asked.get("process"):
        filters["definition_key"] = asked["process"]
    if asked.get("status"):
        if asked["status"] not in set(InstanceStatus):
            raise InvalidRequest("unknown status", {"status": [f"one of: {', '.join(InstanceStatus)}"]})
        filters["status"] = asked["status"]
    if asked.get("key"):
        filters["business_key_part"] = asked["key"][:200]
    if asked.get("node"):
        filters["node"] = asked["node"][:200]
    if asked.get("person"):
        person = asked["person"][:100]
        filters["involving"] = Reader(person, uow.people.groups_of(person))
    rows, total = instances.list_instances(uow, actor, filters, page, page_size)
    may = {row.id: frozenset(name for name, action in INSTANCE_ACTIONS if INSTANCE.allows(name, row.status)
                             and allows(actor, action, instance_facts(uow, actor, row))) for row in rows}
    return InstanceSearch(Page(rows, total, page, page_size), may, uow.definitions.names())
