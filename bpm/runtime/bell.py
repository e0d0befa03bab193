"""The bell: a person's own notices (``bpm.notify`` puts them there) and how they want each kind delivered.

Nobody reads or marks anyone else's notices: every query is by the actor's
own name, so there is nothing to refuse but not being signed in.
"""

from __future__ import annotations

from typing import Any

from bpm.errors import InvalidRequest
from bpm.runtime.actors import Actor
from bpm.runtime.notices import KINDS, MODES
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import Notification, NotificationSetting
from bpm.store.uow import UnitOfWork


def notices(uow: UnitOfWork, actor: Actor, page: int, page_size: int,
            unread_only: bool = False) -> tuple[list[Notification], int]:
    """A page of the actor's notices, newest first, and how many there are."""
    require(actor, Action.NOTIFICATION_LIST)
    return uow.notices.page_of(actor.username, page, page_size, unread_only)


def unread_count(uow: UnitOfWork, actor: Actor) -> int:
    """How many of the actor's notices are unread (the bell's number)."""
    require(actor, Action.NOTIFICATION_LIST)
    return uow.notices.unread_count(actor.username)


def mark_read(rt: Runtime, actor: Actor, ids: list[int] | None = None) -> int:
    """Mark some of the actor's notices read (``None``: all of them); how many stay unread."""
    require(actor, Action.NOTIFICATION_CHANGE)
    with rt.uow() as uow:
        uow.notices.mark_read(actor.username, rt.now(), ids)
        uow.commit()
        return unread_count(uow, actor)


def link_of(rt: Runtime, actor: Actor, notice_id: int) -> str | None:
    """Where one of the actor's notices leads (None: it is not theirs, or leads nowhere); changes nothing."""
    require(actor, Action.NOTIFICATION_LIST)
    with rt.uow() as uow:
        notice = uow.objects.get(Notification, notice_id) if 0 < notice_id < 2**63 else None
        return notice.link if notice is not None and notice.username == actor.username else None


def opened(rt: Runtime, actor: Actor, notice_id: int) -> str | None:
    """Mark one notice read and say where it leads (None: it is not the actor's, or leads nowhere)."""
    require(actor, Action.NOTIFICATION_CHANGE)
    with rt.uow() as uow:
        notice = uow.objects.get(Notification, notice_id) if 0 < notice_id < 2**63 else None
        if notice is None or notice.username != actor.username:
            return None
        if notice.read_at is None:
            notice.read_at = rt.now()
            uow.objects.add(notice)
            uow.commit()
        return notice.link


def settings_of(uow: UnitOfWork, actor: Actor) -> dict[str, str]:
    """How the actor gets each kind of notice (a kind they never chose for: e-mail now)."""
    require(actor, Action.NOTIFICATION_LIST)
    row = uow.objects.get(NotificationSetting, actor.username)
    chosen = dict(row.modes) if row is not None else {}
    return {kind: chosen.get(kind, "now") for kind in KINDS}


def save_settings(rt: Runtime, actor: Actor, modes: dict[str, Any]) -> dict[str, str]:
    """Choose, per kind, e-mail now, a daily digest or the bell only; unknown kinds or modes are said, not kept."""
    require(actor, Action.NOTIFICATION_CHANGE)
    errors = {kind: [f"one of: {', '.join(MODES)}"] for kind, mode in modes.items()
              if kind in KINDS and mode not in MODES}
    errors.update({kind: [f"not a kind of notice; the kinds: {', '.join(KINDS)}"] for kind in modes
                   if kind not in KINDS})
    if errors:
        raise InvalidRequest("invalid notification settings", errors)
    with rt.uow() as uow:
        row = uow.objects.get(NotificationSetting, actor.username)
        merged = {**(dict(row.modes) if row is not None else {}), **modes}
        if row is None:
            row = NotificationSetting(username=actor.username, modes=merged)
        else:
            row.modes = merged
        uow.objects.add(row)
        uow.commit()
    return {kind: merged.get(kind, "now") for kind in KINDS}
