"""Form versions, as the form designer, the API and the registry's cache ask for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import func, select

from bpm.store.models import FormVersion
from bpm.store.vocabulary import DefinitionStatus

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork


class FormRepository:
    """The ``form_version`` table of one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def version(self, form_id: str, version: int, lock: bool = False) -> FormVersion | None:
        """Version ``version`` of ``form_id``; ``lock`` holds it until the unit ends."""
        return self._uow.session.get(FormVersion, (form_id, version), with_for_update=lock or None)

    def draft_of(self, form_id: str, lock: bool = False) -> FormVersion | None:
        """The open draft of ``form_id``, if any; ``lock`` holds it (FOR UPDATE) until the unit ends."""
        query = select(FormVersion).where(FormVersion.form_id == form_id,
                                          FormVersion.status == DefinitionStatus.DRAFT)
        return self._uow.session.exec(query.with_for_update() if lock else query).first()

    def newest_version_number(self, form_id: str) -> int | None:
        """The highest version number of ``form_id`` (any status), or None for a new form."""
        return self._uow.session.exec(select(func.max(FormVersion.version))
                                      .where(FormVersion.form_id == form_id)).one()

    def versions_of(self, form_id: str) -> list[FormVersion]:
        """Every version of ``form_id``, newest first."""
        return list(self._uow.session.exec(select(FormVersion).where(FormVersion.form_id == form_id)
                                           .order_by(FormVersion.version.desc())).all())

    def every_version(self) -> list[FormVersion]:
        """Every version of every form, by id, newest first (the catalogue of forms)."""
        return list(self._uow.session.exec(select(FormVersion)
                                           .order_by(FormVersion.form_id, FormVersion.version.desc())).all())

    def stored_ids(self) -> set[str]:
        """The ids of the forms the database has any version of."""
        return set(self._uow.session.exec(select(FormVersion.form_id).distinct()).all())

    def usable(self) -> list[FormVersion]:
        """Every published or retired version (a retired one still serves the processes that pinned it)."""
        return list(self._uow.session.exec(select(FormVersion).where(
            FormVersion.status != DefinitionStatus.DRAFT)).all())
