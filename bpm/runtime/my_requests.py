"""My requests, as the page shows them: what a person started, where each one is and whom it waits for, and
whether they may still withdraw it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bpm.runtime import definitions, instances, tasks
from bpm.runtime.actors import Actor
from bpm.runtime.paging import Page
from bpm.runtime.runtime import Runtime
from bpm.store.models import ProcessInstance, TaskRecord
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import InstanceStatus, request_state


@dataclass(frozen=True)
class RequestRow:
    instance: ProcessInstance
    process: str  # the process's name, as the catalogue says it
    waiting_for: Sequence[TaskRecord]  # its open tasks
    sub_processes: Sequence[tuple[ProcessInstance, str]]  # running children a call step waits for, with their names
    may_withdraw: bool

    @property
    def state(self) -> str:
        """How it stands, in a word: its outcome once it has one, else its status's word (the vocabulary's)."""
        return request_state(self.instance.status, self.instance.outcome)


def listing(rt: Runtime, uow: UnitOfWork, actor: Actor, page: int, page_size: int) -> Page[RequestRow]:
    """A page of what ``actor`` started, newest first."""
    rows, total = instances.list_instances(uow, actor, {"started_by": actor.username}, page, page_size)
    names = {d.key: d.name for d in definitions.list_definitions(uow, actor)}
    listed = []
    for row in rows:
        waiting = tasks.open_tasks_of(uow, row.id)
        children = (instances.running_children(uow, row.id)  # a call step waits for them
                    if row.status == InstanceStatus.PAUSED and not waiting else [])
        listed.append(RequestRow(row, names.get(row.definition_key, row.definition_key), waiting,
                                 [(child, names.get(child.definition_key, child.definition_key)) for child in children],
                                 instances.withdrawable(rt, uow, actor, row)))
    return Page(listed, total, page, page_size)
