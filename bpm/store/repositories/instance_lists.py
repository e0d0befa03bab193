"""Lists of instances: the ones a person may read (the policy's read rule, said as SQL), filtered, newest first."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, union
from sqlalchemy import select as select_columns
from sqlalchemy.sql import ColumnElement
from sqlmodel import select

from bpm.store.models import ProcessInstance, Task, TaskCandidate
from bpm.store.paging import paginate
from bpm.store.repositories.participants import ParticipantRepository
from bpm.store.repositories.task_lists import offered_to
from bpm.store.vocabulary import TaskStatus

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork


@dataclass(frozen=True)
class Reader:
    """Someone who reads only the instances they are related to (``policy.may_read_instance``)."""

    username: str
    groups: Collection[str] = ()


def readable_by(reader: Reader) -> ColumnElement[bool]:
    """``policy.may_read_instance`` as a condition on ``process_instance``.

    The same four relations: started it; acted on it (a participant row); an
    open task assigned to them; an open offer to them or one of their groups.
    A property test checks the two against each other on generated cases.
    """
    me = reader.username
    assigned = select_columns(Task.instance_id).where(Task.status == TaskStatus.OPEN, Task.assignee == me)
    offered = select_columns(Task.instance_id).join(TaskCandidate, TaskCandidate.task_id == Task.id).where(
        offered_to(me, reader.groups))
    started = select_columns(ProcessInstance.id).where(ProcessInstance.started_by == me)
    # One set of ids, each part read from its own index, instead of an OR the planner can only check row by row
    # (an employee's list over 200,000 instances: bench/access.py).
    related = union(started, ParticipantRepository.instances_of(me), assigned, offered)  # type: ignore[arg-type]
    return ProcessInstance.id.in_(related)


FILTERABLE = {"status": ProcessInstance.status, "definition_key": ProcessInstance.definition_key,
              "business_key": ProcessInstance.business_key, "started_by": ProcessInstance.started_by}


class InstanceListRepository:
    """``uow.instance_lists``: pages of instances for the API's list and My requests."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def page(self, reader: Reader | None, filters: dict[str, Any], page: int,
             page_size: int) -> tuple[list[ProcessInstance], int]:
        """The instances ``reader`` may read (None: every one) matching ``filters``, newest first."""
        query = select(ProcessInstance)
        if reader is not None:
            query = query.where(readable_by(reader))
        for name, column in FILTERABLE.items():
            if filters.get(name) is not None:
                query = query.where(column == filters[name])
        if filters.get("business_key_part"):  # the admins' search: part of a reference, any case
            part = filters["business_key_part"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(ProcessInstance.business_key.ilike(f"%{part}%", escape="\\"))
        if filters.get("node"):  # where it is: its current step, or a step with an open task (a branch)
            at_node = select_columns(Task.instance_id).where(Task.status == TaskStatus.OPEN,
                                                            Task.node_id == filters["node"])
            query = query.where(or_(ProcessInstance.current_node_id == filters["node"],
                                    ProcessInstance.id.in_(at_node)))
        if filters.get("involving") is not None:  # a person's: the same relations as their own reading
            query = query.where(readable_by(filters["involving"]))
        return paginate(self._uow.session, query, (ProcessInstance.started_at.desc(), ProcessInstance.id), page,
                        page_size)

    def readable_ids(self, reader: Reader, among: Collection[str]) -> set[str]:
        """Which of the instance ids ``among`` ``reader`` may read (for testing the rule against the policy)."""
        query = select(ProcessInstance.id).where(ProcessInstance.id.in_(sorted(among)), readable_by(reader))
        return set(self._uow.session.exec(query).all()) if among else set()
