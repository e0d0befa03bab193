"""Signed anchors of the history chains: the heads that moved since the last one, and the anchors themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, cast, or_, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import select

from bpm.store.models import AuditAnchor, AuditChainHead

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

_MOVED = select(AuditChainHead.chain, AuditChainHead.position, AuditChainHead.entry_hash).where(
    or_(AuditChainHead.anchored.is_(None), AuditChainHead.anchored != AuditChainHead.position)  # type: ignore
).order_by(AuditChainHead.chain)


class AnchorRepository:
    """``uow.anchors``: the ``audit_anchor`` table and the chain heads' ``anchored`` marks."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def newest(self) -> AuditAnchor | None:
        """The last anchor made."""
        return self._uow.session.exec(select(AuditAnchor).order_by(AuditAnchor.id.desc()).limit(1)).first()  # type: ignore

    def moved_heads(self) -> list[list[object]]:
        """[chain, position, hash] of every chain head that moved since it was last anchored, by chain."""
        return [[chain, position, digest] for chain, position, digest in self._uow.session.exec(_MOVED).all()]

    def mark_anchored(self, heads: list[list[object]]) -> None:
        """The chains of ``heads`` are anchored at those positions."""
        if heads:
            self._uow.execute(update(AuditChainHead).where(AuditChainHead.chain == bindparam("c"))  # type: ignore
                              .values(anchored=bindparam("p")), [{"c": c, "p": p} for c, p, _ in heads])

    def unshipped(self, limit: int) -> list[AuditAnchor]:
        """Anchors not yet shipped to the anchor webhook, oldest first."""
        return list(self._uow.session.exec(select(AuditAnchor).where(AuditAnchor.shipped_at.is_(None))  # type: ignore
                                           .order_by(AuditAnchor.id).limit(limit)).all())

    def mark_shipped(self, anchor_id: int, at: dt.datetime) -> None:
        self._uow.execute(update(AuditAnchor).where(AuditAnchor.id == anchor_id).values(shipped_at=at))  # type: ignore

    def in_order(self) -> Iterator[AuditAnchor]:
        """Every anchor, oldest first, 200 at a time."""
        yield from self._uow.session.exec(select(AuditAnchor).order_by(AuditAnchor.id).execution_options(
            yield_per=200))

    def newest_signing(self, chain: str) -> AuditAnchor | None:
        """The newest anchor whose heads include ``chain`` (JSONB containment; SQLite's ``json_each``)."""
        if self._uow.dialect.name == "postgresql":
            signing = AuditAnchor.heads.op("@>")(cast([[chain]], JSONB))  # type: ignore[attr-defined]
        else:
            signing = text("EXISTS (SELECT 1 FROM json_each(audit_anchor.heads) WHERE json_extract(value, '$[0]') = "
                           ":chain)").bindparams(chain=chain)
        return self._uow.session.exec(select(AuditAnchor).where(signing).order_by(AuditAnchor.id.desc())  # type: ignore
                                      .limit(1)).first()

    def heads_by_id(self) -> Iterator[tuple[int, list[list[object]]]]:
        """(id, heads) of every anchor, oldest first, 200 at a time (no signatures: an export's index)."""
        yield from self._uow.session.exec(select(AuditAnchor.id, AuditAnchor.heads).order_by(AuditAnchor.id)
                                          .execution_options(yield_per=200))

    def by_ids(self, ids: list[int]) -> list[AuditAnchor]:
        """The anchors with these ids."""
        if not ids:
            return []
        return list(self._uow.session.exec(select(AuditAnchor).where(AuditAnchor.id.in_(ids))).all())  # type: ignore
