"""Process instance rows: read by id, inserted, updated under the optimistic lock."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, func, select

from bpm.errors import InstanceMoved
from bpm.store.direct import DirectStatement
from bpm.store.models import INSTANCE_TABLE, InstanceText, ProcessInstanceRecord
from bpm.store.statements import load_record, versioned_update

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork


class InstanceFacts(NamedTuple):
    """What an inbox row says of its request: who asked, its reference, when it started (where its history is)."""

    started_by: str
    business_key: str | None
    started_at: dt.datetime


class InstanceState(NamedTuple):
    """What a task event needs of its instance: the revision it happens at, the status, when it started."""

    revision: int
    status: str
    started_at: dt.datetime

_STATE = DirectStatement(select(INSTANCE_TABLE.c.revision, INSTANCE_TABLE.c.status, INSTANCE_TABLE.c.started_at)
                         .where(INSTANCE_TABLE.c.id == bindparam("id")))


class InstanceRepository:
    """The ``process_instance`` table of one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def get(self, instance_id: str) -> ProcessInstanceRecord | None:
        """The instance, or None."""
        return load_record(self._uow, ProcessInstanceRecord, instance_id)

    def facts(self, instance_ids: list[str]) -> dict[str, InstanceFacts]:
        """Who started some instances, when, and their references, without their snapshots (an inbox page's
        rows)."""
        if not instance_ids:
            return {}
        table = INSTANCE_TABLE.c
        rows = self._uow.execute(select(table.id, table.started_by, table.business_key, table.started_at)
                                 .where(table.id.in_(instance_ids))).all()
        return {row[0]: InstanceFacts(row[1], row[2], row[3]) for row in rows}

    def state(self, instance_id: str) -> InstanceState | None:
        """Its revision, status and start, without reading the snapshot."""
        row = _STATE.first(self._uow, {"id": instance_id})
        return None if row is None else InstanceState(row[0], row[1], row[2])

    def unfinished_ids_of_version(self, key: str, version: int, ids: list[str] | None = None) -> list[str]:
        """Ids of the unfinished instances of ``key`` at ``version`` (optionally only ``ids``), oldest first."""
        query = select(INSTANCE_TABLE.c.id).where(
            INSTANCE_TABLE.c.definition_key == key, INSTANCE_TABLE.c.definition_version == version,
            INSTANCE_TABLE.c.status.in_(("active", "paused", "error")))
        if ids is not None:
            query = query.where(INSTANCE_TABLE.c.id.in_(ids))
        return [row[0] for row in self._uow.execute(query.order_by(INSTANCE_TABLE.c.started_at,
                                                                   INSTANCE_TABLE.c.id))]

    def unfinished_per_version(self) -> dict[tuple[str, int], int]:
        """How many instances of each (key, version) have not ended."""
        table = INSTANCE_TABLE.c
        rows = self._uow.execute(select(table.definition_key, table.definition_version, func.count())
                                 .where(table.status.in_(("active", "paused", "error")))
                                 .group_by(table.definition_key, table.definition_version))
        return {(key, version): count for key, version, count in rows}

    def waiting_at(self, key: str) -> dict[tuple[int, str | None], int]:
        """How many unfinished instances of ``key`` stand at each (version, node)."""
        table = INSTANCE_TABLE.c
        rows = self._uow.execute(select(table.definition_version, table.current_node_id, func.count())
                                 .where(table.definition_key == key, table.status.in_(("active", "paused", "error")))
                                 .group_by(table.definition_version, table.current_node_id))
        return {(version, node): count for version, node, count in rows}

    def running_children(self, instance_id: str) -> list[ProcessInstanceRecord]:
        """The sub-processes a call of ``instance_id`` started that have not ended."""
        rows = self._uow.execute(select(INSTANCE_TABLE.c.id).where(
            INSTANCE_TABLE.c.parent_id == instance_id, INSTANCE_TABLE.c.status.in_(("active", "paused", "error"))))
        return [child for (child_id,) in rows if (child := self.get(child_id)) is not None]

    def children(self, instance_id: str) -> list[ProcessInstanceRecord]:
        """Every sub-process a call of ``instance_id`` started, oldest first (for the pages and the API)."""
        rows = self._uow.execute(select(INSTANCE_TABLE.c.id).where(INSTANCE_TABLE.c.parent_id == instance_id)
                                 .order_by(INSTANCE_TABLE.c.started_at, INSTANCE_TABLE.c.id))
        return [child for (child_id,) in rows if (child := self.get(child_id)) is not None]

    def add(self, instance: ProcessInstanceRecord) -> None:
        """Queue a new instance."""
        self._uow.insert(instance)

    def add_words(self, instance_id: str, words: str) -> None:
        """Queue the words a new instance is found by (``bpm.runtime.search_words``), after the instance; none
        when there are none (no reference, no text in the start form): an empty row matches no search."""
        if words.strip():
            self._uow.insert_values(InstanceText, instance_id=instance_id, words=words)

    def update(self, instance: ProcessInstanceRecord, values: dict[str, Any]) -> None:
        """Write ``values`` if nobody changed the instance since it was read (else ConflictError); bumps revision."""
        read = instance.revision
        versioned_update(self._uow, INSTANCE_TABLE, instance.id, read, values, conflict=InstanceMoved(
            f"instance {instance.id} was changed by someone else; reload and try again"))
        self._uow.mark_written(instance, {**values, "revision": read + 1})
