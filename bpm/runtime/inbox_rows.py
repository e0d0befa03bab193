"""What an inbox row says besides its task: who asked, the request's reference, whether it was escalated, and
for whom the reader would act on it (someone away they stand in for).

Read for one page of tasks at a time, in two narrow queries over that page's instances, so the list's own query
(the one ``bench.inbox`` measures at 100,000 open tasks) keeps reading only the task tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from bpm.runtime.actors import Actor, StandIn
from bpm.runtime.policy import standing_in_for
from bpm.store.models import TaskRecord
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import Cause


class RowFacts(NamedTuple):
    requester: str
    reference: str | None  # the request's business key
    escalated: bool  # passed on, or offered wider, because it waited too long
    standing_in: StandIn | None = None  # the absence through which the reader sees it (None: it is theirs)


def row_facts(uow: UnitOfWork, tasks: Sequence[TaskRecord], reader: Actor | None = None) -> dict[str, RowFacts]:
    """``{task id: RowFacts}`` for a page of tasks, as ``reader`` sees them."""
    instance_ids = sorted({task.instance_id for task in tasks})
    instances = uow.instances.facts(instance_ids)
    escalated = uow.history.tasks_with({i: facts.started_at for i, facts in instances.items()},
                                       Cause.TASK_ESCALATED)
    return {task.id: RowFacts(*(instances[task.instance_id][:2] if task.instance_id in instances else ("", None)),
                              task.id in escalated, standing_in_for(reader, task) if reader is not None else None)
            for task in tasks}
