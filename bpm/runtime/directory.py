"""Finding people and groups by a few letters, for the pickers wherever a person or group is named (a form's
person field, delegate, reassign, a substitute, the designer): names, display names and groups only — never an
e-mail or a role, which are nobody's business but the admins'."""

from __future__ import annotations

from dataclasses import dataclass

from bpm.errors import InvalidRequest
from bpm.runtime.actors import Actor
from bpm.runtime.policy import Action, require
from bpm.store.uow import UnitOfWork

MAX_QUERY = 100


@dataclass(frozen=True)
class PersonLine:
    """A person as a picker shows them."""

    username: str
    display_name: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class GroupLine:
    """A group as a picker shows it."""

    name: str
    display_name: str


def _text(query: str | None) -> str:
    text = (query or "").strip()
    if len(text) > MAX_QUERY:
        raise InvalidRequest("too long", {"q": [f"at most {MAX_QUERY} characters"]})
    return text


def people(uow: UnitOfWork, actor: Actor, query: str | None, page: int, page_size: int) -> tuple[list[PersonLine],
                                                                                                int]:
    """Active people whose name or display name holds ``query``, a page of them by name, and how many match."""
    require(actor, Action.DIRECTORY_READ)
    rows, total = uow.people.find(_text(query), page, page_size)
    return [PersonLine(name, display, tuple(groups)) for name, display, groups in rows], total


def groups(uow: UnitOfWork, actor: Actor, query: str | None, page: int, page_size: int) -> tuple[list[GroupLine],
                                                                                                int]:
    """Groups whose name or display name holds ``query``, a page of them by name, and how many match."""
    require(actor, Action.DIRECTORY_READ)
    rows, total = uow.people.find_groups(_text(query), page, page_size)
    return [GroupLine(name, display) for name, display in rows], total
