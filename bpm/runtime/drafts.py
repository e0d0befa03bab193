"""Drafts: a person's half-filled task or start form, kept unvalidated until they submit it or throw it away.

A draft belongs to one person and one form (``task:<id>``, ``start:<process>``);
saving one needs what opening the form needs (reading the task, being allowed
to start the process), so a draft never reveals or stores anything its
person could not see anyway. It holds the posted text as typed (at most
``MAX_DRAFT_BYTES``), not JSON the form validates: half-filled is the point.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from bpm.errors import InvalidRequest
from bpm.runtime import instances, tasks
from bpm.runtime.access import task_facts
from bpm.runtime.actors import Actor
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import FormDraft
from bpm.store.uow import UnitOfWork

MAX_DRAFT_BYTES = 64_000
MAX_FIELDS = 500


def task_key(task_id: str) -> str:
    return f"task:{task_id}"


def start_key(definition_key: str) -> str:
    return f"start:{definition_key}"


def _may_use(rt: Runtime, uow: UnitOfWork, actor: Actor, key: str) -> None:
    kind, _, target = key.partition(":")
    if kind == "task":
        task, instance = tasks.read_task(rt, uow, actor, target)
        require(actor, Action.TASK_COMPLETE, task_facts(rt, uow, actor, task, instance))  # a draft is to submit
    elif kind == "start":
        instances.start_form(rt, uow, actor, target)  # NotFound unless the actor may start it
    else:
        raise InvalidRequest("unknown draft", {"key": ["task:<id> or start:<process>"]})


def save(rt: Runtime, actor: Actor, key: str, fields: dict[str, list[str]]) -> FormDraft:
    """Keep ``fields`` (name -> posted values) as the actor's draft of ``key``, replacing the one before."""
    if len(fields) > MAX_FIELDS or len(orjson.dumps(fields)) > MAX_DRAFT_BYTES:
        raise InvalidRequest("draft too large", {"_form": [f"a draft holds at most {MAX_DRAFT_BYTES:,} bytes"]})
    with rt.uow() as uow:
        _may_use(rt, uow, actor, key)
        draft = uow.objects.get(FormDraft, (actor.username, key))
        now = rt.now()
        if draft is None:
            draft = FormDraft(username=actor.username, key=key, fields=fields, saved_at=now)
        else:
            draft.fields, draft.saved_at = fields, now
        uow.objects.add(draft)
        uow.commit()
        return draft


def load(uow: UnitOfWork, actor: Actor, key: str) -> FormDraft | None:
    """The actor's draft of ``key`` (only ever their own), or None."""
    return uow.objects.get(FormDraft, (actor.username, key))


def discard(rt: Runtime, actor: Actor, key: str) -> None:
    """Throw the actor's draft of ``key`` away (after submitting the form, or on request)."""
    with rt.uow() as uow:
        draft = uow.objects.get(FormDraft, (actor.username, key))
        if draft is not None:
            uow.objects.remove(draft)
            uow.commit()


def saved_when(draft: FormDraft, now: dt.datetime) -> str:
    """When the draft was saved, for people: "just now", "5 minutes ago", or the date."""
    age = now - draft.saved_at
    if age < dt.timedelta(minutes=1):
        return "just now"
    if age < dt.timedelta(hours=1):
        return f"{int(age.total_seconds() // 60)} minutes ago"
    return draft.saved_at.strftime("%-d %b %Y, %H:%M")


def fields_of(posted: Any, skip: frozenset[str] = frozenset({"csrf_token", "back", "revision", "outcome",
                                                             "action"})) -> dict[str, list[str]]:
    """What a posted form holds, as a draft keeps it."""
    return {name: posted.getlist(name) for name in posted if name not in skip}
