"""Process definition versions, as the hot path asks for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select
from sqlmodel import select as select_models

from bpm.store.direct import DirectStatement
from bpm.store.models import ProcessDefinition, ProcessScenario
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

    def draft_of(self, key: str, lock: bool = False) -> ProcessDefinition | None:
        """The draft of ``key``, if one is open; ``lock`` holds it (FOR UPDATE) until the unit ends."""
        query = select_models(ProcessDefinition).where(ProcessDefinition.key == key,
                                                       ProcessDefinition.status == DefinitionStatus.DRAFT)
        return self._uow.session.exec(query.with_for_update() if lock else query).first()

    def newest_version_number(self, key: str, status: str | None = None, besides: int | None = None) -> int | None:
        """The highest version number of ``key`` (in ``status``; other than ``besides``), or None."""
        query = select_models(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key)
        if status is not None:
            query = query.where(ProcessDefinition.status == status)
        if besides is not None:
            query = query.where(ProcessDefinition.version != besides)
        return self._uow.session.exec(query).one()

    def version(self, key: str, version: int, lock: bool = False) -> ProcessDefinition | None:
        """Version ``version`` of ``key`` as a model object; ``lock`` holds it until the unit ends."""
        query = select_models(ProcessDefinition).where(ProcessDefinition.key == key,
                                                       ProcessDefinition.version == version)
        return self._uow.session.exec(query.with_for_update() if lock else query).first()

    def versions_of(self, key: str) -> list[ProcessDefinition]:
        """Every version of ``key``, newest first."""
        return list(self._uow.session.exec(select_models(ProcessDefinition).where(ProcessDefinition.key == key)
                                           .order_by(ProcessDefinition.version.desc())).all())

    def authors_of(self, key: str) -> set[str]:
        """Who created or published any version of ``key``."""
        rows = self._uow.session.exec(select_models(ProcessDefinition.created_by, ProcessDefinition.published_by)
                                      .where(ProcessDefinition.key == key)).all()
        return {name for row in rows for name in row if name is not None}

    def newest_of_each(self, status: str | None = None) -> list[ProcessDefinition]:
        """The newest version (in ``status``, when given) of every key, by key."""
        query = select_models(ProcessDefinition)
        if status is not None:
            query = query.where(ProcessDefinition.status == status)
        newest: dict[str, ProcessDefinition] = {}
        for row in self._uow.session.exec(query.order_by(ProcessDefinition.key, ProcessDefinition.version)).all():
            newest[row.key] = row
        return list(newest.values())

    def every_version(self) -> list[Any]:
        """Every version of every process, its columns but not its body (the designer's catalogue), by key,
        newest first; each row reads like the model (``row.key``, ``row.status``)."""
        table = ProcessDefinition.__table__  # type: ignore[attr-defined]
        columns = [c for c in table.c if c.name != "body"]
        return list(self._uow.execute(select(*columns).order_by(table.c.key, table.c.version.desc())))

    def scenarios_of(self, key: str) -> list[ProcessScenario]:
        """The saved test runs of process ``key``, by name."""
        return list(self._uow.session.exec(select_models(ProcessScenario).where(ProcessScenario.key == key)
                                           .order_by(ProcessScenario.name)).all())

    def nodes_of(self, process: str) -> list[dict[str, Any]]:
        """Every node of every version of ``process``."""
        bodies = self._uow.session.exec(select_models(ProcessDefinition.body).where(ProcessDefinition.key == process))
        return [n for body in bodies.all() for n in (body or {}).get("nodes", ()) if isinstance(n, dict)]

    def names(self) -> list[tuple[str, str]]:
        """Every process key with its newest name, by key."""
        rows = self._uow.session.exec(select_models(ProcessDefinition.key, ProcessDefinition.name)
                                      .order_by(ProcessDefinition.key, ProcessDefinition.version)).all()
        return sorted({key: name for key, name in rows}.items())

    def bodies(self) -> list[tuple[str, int, Any]]:
        """(key, version, body) of every definition version (each body says its time to live)."""
        query = select_models(ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.body)
        return [tuple(row) for row in self._uow.session.exec(query).all()]  # type: ignore[misc]

    def row_by_id(self, definition_id: int) -> ProcessDefinition | None:
        """The definition version with row id ``definition_id``, as a model object (by a statement built once)."""
        return load_by_id(self._uow.session, ProcessDefinition, definition_id)

    def newest_published(self, key: str) -> tuple[int, int] | None:
        """``(id, version)`` of the newest published version of ``key``, without its body (or None)."""
        row = _NEWEST_PUBLISHED.first(self._uow, {"key": key})
        return None if row is None else (row[0], row[1])
