"""Process definition versions, as the hot path asks for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select

from bpm.store.direct import DirectStatement
from bpm.store.models import ProcessDefinition
from bpm.store.statements import load_by_id
from bpm.store.vocabulary import DefinitionStatus

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

_NEWEST_PUBLISHED = DirectStatement(select(ProcessDefinition.id, ProcessDefinition.version)
                                    .where(ProcessDefinition.key == bindparam("key"),
                                           ProcessDefinition.status == DefinitionStatus.PUBLISHED)
                                    .order_by(ProcessDefinition.version.desc()).limit(1))


class DefinitionRepository:
    """The ``process_definition`` table of one unit of work (the designer's actions use the ORM session)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def row_by_id(self, definition_id: int) -> ProcessDefinition | None:
        """The definition version with row id ``definition_id``, as a model object (by a statement built once)."""
        return load_by_id(self._uow.session, ProcessDefinition, definition_id)

    def newest_published(self, key: str) -> tuple[int, int] | None:
        """``(id, version)`` of the newest published version of ``key``, without its body (or None)."""
        row = _NEWEST_PUBLISHED.first(self._uow, {"key": key})
        return None if row is None else (row[0], row[1])
