"""Saved views: a person names an inbox filter and picks it from a list later. Only ever their own."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlmodel import select

from bpm.errors import InvalidRequest
from bpm.runtime.actors import Actor
from bpm.runtime.runtime import Runtime
from bpm.store.models import SavedView
from bpm.store.uow import UnitOfWork

MAX_VIEWS = 30
FILTERS = ("view", "q", "process", "due", "priority", "sort")  # what a view may hold (never a page number)


def save(rt: Runtime, actor: Actor, name: str, query: str) -> SavedView:
    """Keep the filters of ``query`` under ``name`` (replacing a view of that name)."""
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InvalidRequest("invalid name", {"name": ["1 to 60 characters"]})
    kept = urlencode([(k, v) for k, v in parse_qsl(query or "") if k in FILTERS and v][:10])[:1000]
    with rt.uow() as uow:
        mine = list_of(uow, actor)
        existing = next((v for v in mine if v.name == name), None)
        if existing is None and len(mine) >= MAX_VIEWS:
            raise InvalidRequest("too many views", {"name": [f"at most {MAX_VIEWS} views; delete one first"]})
        view = existing or SavedView(username=actor.username, name=name, query=kept, saved_at=rt.now())
        view.query, view.saved_at = kept, rt.now()
        uow.session.add(view)
        uow.commit()
        return view


def list_of(uow: UnitOfWork, actor: Actor) -> list[SavedView]:
    """The actor's views, by name."""
    return list(uow.session.exec(select(SavedView).where(SavedView.username == actor.username)
                                 .order_by(SavedView.name)).all())


def delete(rt: Runtime, actor: Actor, name: str) -> None:
    """Forget one of the actor's views (nothing happens if there is none by that name)."""
    with rt.uow() as uow:
        view = uow.session.get(SavedView, (actor.username, name))
        if view is not None:
            uow.session.delete(view)
            uow.commit()
