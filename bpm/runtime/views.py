"""Saved views: a person names a filter (the inbox's, or an auditor's search) and picks it from a list later.

Only ever their own. Each kind of page keeps its views on its own shelf (``INBOX``, ``AUDIT``): a table and
the query-string keys a view of it may hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from bpm.errors import InvalidRequest
from bpm.runtime.actors import Actor
from bpm.runtime.audit_search import DATA_PREFIX, PLAIN
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import SavedSearch, SavedView
from bpm.store.uow import UnitOfWork

MAX_VIEWS = 30
FILTERS = ("view", "q", "process", "due", "priority", "sort")  # what a view may hold (never a page number)


@dataclass(frozen=True)
class Shelf:
    """Where one page's views are kept, who may keep them, and which query-string keys (or key prefixes) they
    may hold."""

    model: type[SavedView] | type[SavedSearch]
    action: Action  # what the actor must be allowed to do to keep views here (the page's own reading)
    keys: tuple[str, ...]
    prefixes: tuple[str, ...] = ()
    most_pairs: int = 10
    longest: int = 1000

    def keeps(self, key: str) -> bool:
        return key in self.keys or (bool(self.prefixes) and key.startswith(self.prefixes))


INBOX = Shelf(SavedView, Action.TASK_LIST, FILTERS)
AUDIT = Shelf(SavedSearch, Action.INSTANCE_READ_ALL, PLAIN, (DATA_PREFIX,), most_pairs=20, longest=2000)


def save(rt: Runtime, actor: Actor, name: str, query: str, shelf: Shelf = INBOX) -> SavedView | SavedSearch:
    """Keep the filters of ``query`` under ``name`` (replacing a view of that name)."""
    require(actor, shelf.action)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InvalidRequest("invalid name", {"name": ["1 to 60 characters"]})
    kept = urlencode([(k, v) for k, v in parse_qsl(query or "") if shelf.keeps(k) and v][:shelf.most_pairs])
    if len(kept) > shelf.longest:
        raise InvalidRequest("too long to keep", {"name": [f"the search is over {shelf.longest} characters"]})
    with rt.uow() as uow:
        mine = list_of(uow, actor, shelf)
        existing = next((v for v in mine if v.name == name), None)
        if existing is None and len(mine) >= MAX_VIEWS:
            raise InvalidRequest("too many views", {"name": [f"at most {MAX_VIEWS} views; delete one first"]})
        view = existing or shelf.model(username=actor.username, name=name, query=kept, saved_at=rt.now())
        view.query, view.saved_at = kept, rt.now()
        uow.objects.add(view)
        uow.commit()
        return view


def list_of(uow: UnitOfWork, actor: Actor, shelf: Shelf = INBOX) -> list[SavedView | SavedSearch]:
    """The actor's views, by name."""
    require(actor, shelf.action)
    model = shelf.model
    return uow.saved.of(model, actor.username)


def delete(rt: Runtime, actor: Actor, name: str, shelf: Shelf = INBOX) -> None:
    """Forget one of the actor's views (nothing happens if there is none by that name)."""
    require(actor, shelf.action)
    with rt.uow() as uow:
        view = uow.objects.get(shelf.model, (actor.username, name))
        if view is not None:
            uow.objects.remove(view)
            uow.commit()
