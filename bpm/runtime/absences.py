"""Out of office: a person records when they are away and who stands in for them meanwhile.

Nothing moves. While the absence lasts, the substitute sees the absent
person's tasks (assigned to them, offered to them or their groups) beside
their own and acts on them on the absent person's behalf
(``policy.standing_in_for``); every action records both people. When the
absence ends the tasks that are left are simply the person's again — so
nothing has to move back, and nothing is lost when an absence is removed
early.

The rules an absence must keep, checked with the people's rows locked so
two absences recorded at once are checked one after the other:

- one person, one absence on any day (no overlapping absences);
- the substitute is an active person who works on tasks, not the person
  themselves, and is not away on any of those days (nor standing in a
  circle: A for B while B is away with A as substitute);
- no cascading: a substitute stands in only for the absent person's own
  work, never for the work of those the absent person stands in for.

Who: a person records and removes their own; HR (the members of
``BPM_ABSENCE_MANAGERS_GROUP``) and admins anyone's. Each recording and
removal is an event of the admin chain (who set whom as whose substitute).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bpm.config import Role
from bpm.errors import InvalidRequest, NotFound, shown
from bpm.runtime.actors import Actor, find_actor
from bpm.runtime.policy import AbsenceFacts, Action, allows, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import Absence
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import AdminCause

MAX_DAYS = 366  # one absence; a longer leave is recorded again
MAX_PROCESSES = 100


@dataclass(frozen=True)
class AbsenceForm:
    """An absence as asked for, checked field by field (``checked``) before anything is read or written."""

    person: str
    substitute: str
    starts_on: dt.date
    ends_on: dt.date
    processes: tuple[str, ...] | None
    existing_tasks: bool


def facts(rt: Runtime, person: str) -> AbsenceFacts:
    """What the policy needs about an absence of ``person``."""
    return AbsenceFacts(person, rt.settings.absence_managers_group)


def checked(rt: Runtime, actor: Actor, body: Mapping[str, Any]) -> AbsenceForm:
    """``body`` (``from``, ``to``, ``substitute``, ``processes?``, ``existingTasks?``, ``person?``) as an
    AbsenceForm, or InvalidRequest naming every field that is wrong, in words for the person filling it in."""
    errors: dict[str, list[str]] = {}
    person = body.get("person") or actor.username
    if not isinstance(person, str):
        errors["person"] = ["name one person"]
        person = actor.username
    starts_on, ends_on = _date(body.get("from"), "from", errors), _date(body.get("to"), "to", errors)
    if starts_on is not None and ends_on is not None:
        if ends_on < starts_on:
            errors["to"] = ["must be on or after the first day"]
        elif (ends_on - starts_on).days >= MAX_DAYS:
            errors["to"] = [f"at most {MAX_DAYS} days after the first day: record a longer leave in parts"]
        elif ends_on < rt.days.today():
            errors["to"] = ["is in the past: an absence that has ended changes nothing"]
    substitute = body.get("substitute")
    if not isinstance(substitute, str) or not substitute.strip():
        errors["substitute"] = ["name the person who stands in"]
        substitute = ""
    elif substitute.strip() == person:
        errors["substitute"] = ["someone other than the person who is away"]
    processes = _processes(body.get("processes"), errors)
    existing = body.get("existingTasks", True)
    if not isinstance(existing, bool):
        errors["existingTasks"] = ["yes or no"]
    if errors:
        raise InvalidRequest("the absence cannot be recorded", errors)
    assert starts_on is not None and ends_on is not None
    return AbsenceForm(person, substitute.strip(), starts_on, ends_on, processes, bool(existing))


def _date(value: Any, name: str, errors: dict[str, list[str]]) -> dt.date | None:
    if not isinstance(value, str) or not value.strip():
        errors[name] = ["a date is required (for example 2026-12-14)"]
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        errors[name] = [f"{shown(value)} is not a date: write it as 2026-12-14"]
        return None


def _processes(value: Any, errors: dict[str, list[str]]) -> tuple[str, ...] | None:
    if value is None or value == []:
        return None
    if not isinstance(value, list) or not all(isinstance(key, str) and key.strip() for key in value):
        errors["processes"] = ["a list of process keys, or nothing for every process"]
        return None
    if len(value) > MAX_PROCESSES:
        errors["processes"] = [f"at most {MAX_PROCESSES} processes; leave it empty for every process"]
        return None
    return tuple(dict.fromkeys(key.strip() for key in value))


def record_absence(rt: Runtime, actor: Actor, body: Mapping[str, Any]) -> Absence:
    """Record an absence (see the module's rules); a refused one writes nothing."""
    form = checked(rt, actor, body)
    require(actor, Action.ABSENCE_CHANGE, facts(rt, form.person))
    with rt.uow() as uow:
        uow.absences.lock_people({form.person, form.substitute})
        errors = _people_errors(rt, uow, form) or _calendar_errors(uow, form)
        if errors:
            raise InvalidRequest("the absence cannot be recorded", errors)
        absence = Absence(id=str(uuid.uuid4()), person=form.person, substitute=form.substitute,
                          starts_on=form.starts_on, ends_on=form.ends_on,
                          processes=list(form.processes) if form.processes else None,
                          existing_tasks=form.existing_tasks, created_by=actor.username, created_at=rt.now())
        uow.objects.add(absence)
        uow.audit_events.append(absence.created_at, actor.username, AdminCause.ABSENCE_RECORDED,
                                f"user:{form.person}", described(absence))
        uow.commit()
        uow.objects.detach(absence)
    rt.actors.forget(form.substitute)  # they stand in from now on (other servers: within the cache's time)
    return absence


def _people_errors(rt: Runtime, uow: UnitOfWork, form: AbsenceForm) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if find_actor(uow, form.person) is None:
        errors["person"] = [f"no active user {shown(form.person)}"]
    substitute = find_actor(uow, form.substitute, rt.actors.roles_of_groups)
    if substitute is None:
        errors["substitute"] = [f"no active user {shown(form.substitute)}"]
    elif not substitute.has_role(Role.EMPLOYEE):
        errors["substitute"] = [f"{form.substitute} does not work on tasks, so cannot stand in for anyone"]
    known = {key for key, _ in uow.definitions.names()}
    unknown = [key for key in form.processes or () if key not in known]
    if unknown:
        errors["processes"] = [f"no process {shown(key)}" for key in unknown]
    return errors


def _calendar_errors(uow: UnitOfWork, form: AbsenceForm) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for other in uow.absences.overlapping([form.person], form.starts_on, form.ends_on):
        errors["from"] = [f"{form.person} is away from {spoken(other.starts_on)} to {spoken(other.ends_on)} "
                          "already: change or remove that absence first"]
    for other in uow.absences.overlapping([form.substitute], form.starts_on, form.ends_on):
        when = f"from {spoken(other.starts_on)} to {spoken(other.ends_on)}"
        errors["substitute"] = [
            f"{form.substitute} is away {when} with {form.person} standing in: the two would stand in for each "
            "other, and both absences' work would reach nobody" if other.substitute == form.person else
            f"{form.substitute} is away {when}: name someone who is here"]
    return errors


def remove_absence(rt: Runtime, actor: Actor, absence_id: str) -> None:
    """Remove an absence (it ends now, or never begins): its tasks were never moved, so none move back."""
    with rt.uow() as uow:
        absence = uow.objects.get(Absence, absence_id, for_update=True)
        if absence is None:
            raise NotFound("no such absence")
        require(actor, Action.ABSENCE_CHANGE, facts(rt, absence.person))
        uow.objects.remove(absence)
        uow.audit_events.append(rt.now(), actor.username, AdminCause.ABSENCE_REMOVED, f"user:{absence.person}",
                                described(absence))
        uow.commit()
    rt.actors.forget(absence.substitute)


def list_absences(rt: Runtime, uow: UnitOfWork, actor: Actor, person: str | None, ended: bool, page: int,
                  page_size: int) -> tuple[list[Absence], int]:
    """Absences that have not ended (``ended``: those too), soonest first: an employee's own and those they
    stand in for; HR's and admins' of everyone (or of ``person``)."""
    require(actor, Action.ABSENCE_LIST)
    since = dt.date.min if ended else rt.days.today()
    if person is not None and person != actor.username:
        require(actor, Action.ABSENCE_READ_ALL, facts(rt, person))
        return uow.absences.listed(person, None, since, page, page_size)
    if person is None and allows(actor, Action.ABSENCE_READ_ALL, facts(rt, actor.username)):
        return uow.absences.listed(None, None, since, page, page_size)
    return uow.absences.listed(person, None if person else actor.username, since, page, page_size)


def described(absence: Absence) -> dict[str, Any]:
    """An absence as the API and the admin chain show it."""
    return {"id": absence.id, "person": absence.person, "substitute": absence.substitute,
            "from": absence.starts_on.isoformat(), "to": absence.ends_on.isoformat(),
            "processes": absence.processes, "existingTasks": absence.existing_tasks,
            "createdBy": absence.created_by}


def spoken(day: dt.date) -> str:
    """A day as people read it: "12 Dec 2026"."""
    return day.strftime("%-d %b %Y")
