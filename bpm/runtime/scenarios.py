"""Scenarios: test runs a designer keeps with a process, and the end each must reach.

They are the process's regression tests: every scenario of a process runs
again, in the pure engine (``simulation``), when a draft of it is published,
and one that no longer ends as expected blocks the publishing with the
reason. They belong to the key, not a version, so they outlive each draft.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bpm.engine import Problem
from bpm.errors import BpmError, InvalidRequest, NotFound, shown
from bpm.runtime import simulation
from bpm.runtime.actors import Actor
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import ProcessScenario
from bpm.store.uow import UnitOfWork

ENDS = ("waiting", "completed", "failed")
MAX_SCENARIOS = 50


def save(rt: Runtime, actor: Actor, key: str, name: str, run: Mapping[str, Any],
         expect: Mapping[str, Any]) -> ProcessScenario:
    """Keep (or replace) scenario ``name`` of process ``key``."""
    require(actor, Action.DEFINITION_WRITE)
    errors: dict[str, list[str]] = {}
    if not name.strip() or len(name) > 200:
        errors["name"] = ["a name of 1 to 200 characters"]
    if expect.get("status") not in ENDS:
        errors["expect.status"] = [f"one of: {', '.join(ENDS)}"]
    if errors:
        raise InvalidRequest("not a scenario", errors)
    with rt.uow() as uow:
        if uow.definitions.newest_version_number(key) is None:
            raise NotFound(f"no process {shown(key)}")
        scenario = uow.objects.get(ProcessScenario, (key, name))
        if scenario is None:
            if len(uow.definitions.scenarios_of(key)) >= MAX_SCENARIOS:
                raise InvalidRequest("too many scenarios", {"name": [f"a process keeps at most {MAX_SCENARIOS}"]})
            scenario = ProcessScenario(key=key, name=name, run=dict(run), expect=dict(expect),
                                       created_by=actor.username, created_at=rt.now())
        else:
            scenario.run, scenario.expect = dict(run), dict(expect)
        uow.objects.add(scenario)
        uow.commit()
        return scenario


def list_of(uow: UnitOfWork, actor: Actor, key: str) -> list[ProcessScenario]:
    """The scenarios of ``key``."""
    require(actor, Action.DEFINITION_WRITE)
    return uow.definitions.scenarios_of(key)


def delete(rt: Runtime, actor: Actor, key: str, name: str) -> None:
    """Throw scenario ``name`` of ``key`` away."""
    require(actor, Action.DEFINITION_WRITE)
    with rt.uow() as uow:
        scenario = uow.objects.get(ProcessScenario, (key, name))
        if scenario is None:
            raise NotFound(f"no scenario {shown(name)} of {shown(key)}")
        uow.objects.remove(scenario)
        uow.commit()


def failures(rt: Runtime, actor: Actor, uow: UnitOfWork, key: str, body: Any) -> list[Problem]:
    """Each scenario that ``body`` no longer passes, with what happened instead."""
    found = []
    for scenario in uow.definitions.scenarios_of(key):
        where = f"scenario:{scenario.name}"
        try:
            got = simulation.simulate(rt, actor, {**scenario.run, "definition": body}, uow)
        except BpmError as refused:
            details = "; ".join(m for ms in getattr(refused, "errors", {}).values() for m in ms)
            found.append(Problem(where, f"scenario '{scenario.name}' cannot run: {refused}"
                                        + (f" ({details})" if details else "")))
            continue
        wrong = mismatch(scenario.expect, got)
        if wrong:
            found.append(Problem(where, f"scenario '{scenario.name}' expected {wrong}"))
    return found


def expectation_of(result: Mapping[str, Any]) -> dict[str, Any]:
    """How a test run ended, as a scenario expects it again: the status, and the outcome or where it waits."""
    expect: dict[str, Any] = {"status": result["status"]}
    if result["status"] == "completed":
        expect["outcome"] = result.get("outcome")
    elif result["status"] == "waiting":
        expect["waitingAt"] = list(result.get("waiting_at", []))
    return expect


def mismatch(expect: Mapping[str, Any], got: Mapping[str, Any]) -> str | None:
    """How a run's result differs from what the scenario expects, in words (None: it passes)."""
    said = []
    for name in ("status", "outcome"):
        if name in expect and expect[name] != got.get(name):
            said.append(f"{name} {expect[name]!r} but got {got.get(name)!r}")
    if "waitingAt" in expect and sorted(expect["waitingAt"]) != sorted(got.get("waiting_at", ())):
        said.append(f"to wait at {', '.join(expect['waitingAt']) or 'nothing'} but it waits at "
                    f"{', '.join(got.get('waiting_at', ())) or 'nothing'}")
    if "path" in expect and list(expect["path"]) != list(got.get("path", ())):
        said.append(f"the path {' → '.join(expect['path'])} but it took {' → '.join(got.get('path', ()))}")
    return "; ".join(said) or None
