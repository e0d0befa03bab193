"""One unit of work per request or job: a session that commits everything or nothing."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker


class UnitOfWork:
    """``with uow:`` opens a transaction; leaving without ``commit()`` (or by an exception) rolls back."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.session.expunge_all()  # loaded rows stay readable (for serialization) after the unit ends
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        """Make everything done in this unit permanent."""
        self.session.commit()
