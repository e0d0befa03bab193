"""What every page shares: the header it is drawn under, where "back" goes, and which page of a list it shows.

A page's view renders through ``render_page``, which passes the header in:
the counts and the menu are read here once, before the template runs, and
the menu is what the policy allows (a template never asks a role or the
database). Fragments htmx swaps in render their template alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import g, render_template, request

from bpm.auth import runtime
from bpm.runtime import bell, inbox
from bpm.runtime.actors import Actor
from bpm.runtime.paging import page_number
from bpm.runtime.policy import Action, allows, works_on_requests
from bpm.store.uow import UnitOfWork


@dataclass(frozen=True)
class MenuItem:
    label: str
    path: str
    prefix: bool = False  # current on every page under ``path`` (the start forms, an audited request)

    def current(self, here: str) -> bool:
        return here.startswith(self.path) if self.prefix else here == self.path


@dataclass(frozen=True)
class Header:
    """The top of every page: who is signed in, their open tasks and unread notices, and the menu they may use."""

    actor: Actor | None = None
    open_tasks: int | None = None  # None: not counted (an error page that must not need the database)
    unread_notices: int | None = None
    menu: tuple[MenuItem, ...] = ()


WORK = (MenuItem("Tasks", "/inbox"), MenuItem("Start a process", "/start", prefix=True),
        MenuItem("My requests", "/requests"))
DESIGNERS = (MenuItem("Design", "/designer", prefix=True),)
READERS_OF_EVERYTHING = (MenuItem("Audit", "/audit", prefix=True), MenuItem("Admin", "/admin"))
AWAY = (MenuItem("Out of office", "/absences"),)
EVERYONE = (MenuItem("Notices", "/notifications"), MenuItem("API tokens", "/tokens"))


def menu_of(actor: Actor) -> tuple[MenuItem, ...]:
    """The pages the actor may open, in the menu's order (the policy says which): an auditor's starts at the
    audit search, a designer's at the designer, an employee's at the inbox."""
    return ((WORK + AWAY if works_on_requests(actor) else ())
            + (DESIGNERS if allows(actor, Action.DEFINITION_WRITE) else ())
            + (READERS_OF_EVERYTHING if allows(actor, Action.INSTANCE_READ_ALL) else ()) + EVERYONE)


def home_of(actor: Actor | None) -> str:
    """Where "/" takes the actor: the first page of their menu (signed out: the inbox, past the sign-in)."""
    return menu_of(actor)[0].path if actor is not None else "/inbox"


def header_of(actor: Actor | None, open_tasks: int | None = None, counted: bool = True) -> Header:
    """The header for ``actor``; ``open_tasks`` when the page counted them already (the inbox does)."""
    if actor is None:
        return Header()
    if not counted:
        return Header(actor, menu=menu_of(actor))
    with runtime().uow() as uow:
        if open_tasks is None:
            open_tasks = open_task_count(uow, actor)
        unread = bell.unread_count(uow, actor)
    return Header(actor, open_tasks, unread, menu_of(actor))


def open_task_count(uow: UnitOfWork, actor: Actor) -> int:
    """Tasks assigned to the actor or offered to them now (one narrow count query)."""
    return inbox.count_tasks(uow, actor, {})


def render_page(template: str, status: int = 200, open_tasks: int | None = None, counted: bool = True,
                **context: Any) -> tuple[str, int]:
    """A whole page: ``template`` under the header of whoever is signed in."""
    header = header_of(g.get("bpm_actor"), open_tasks, counted)
    return render_template(template, header=header, **context), status


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this site only (never another host: no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def back(default: str = "/inbox") -> str:
    """Where the person came from (the list with its filters and page), as the form or link says it."""
    return safe_next(request.values.get("back") or default)


def asked_page() -> int:
    """The page of a list the query string asks for."""
    return page_number(request.args.get("page"))


DUE_SOON = dt.timedelta(days=1)


def urgency(task: Any, now: dt.datetime) -> str | None:
    """"overdue" or "due-soon" for a task's due date (None: neither, or no date)."""
    if task.due_at is None:
        return None
    if task.due_at < now:
        return "overdue"
    return "due-soon" if task.due_at - now < DUE_SOON else None
