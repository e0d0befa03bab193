"""Who may claim, give back, delegate, reassign and comment on a task: the runtime's own actions, run against the
in-memory unit of work (tests/fakes.py), so the whole table runs in well under a second. The same actions against
SQLite and PostgreSQL: tests/e2e/test_permission_matrix.py and tests/e2e/test_tasks_api.py."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from bpm.config import Settings
from bpm.engine import ManualClock
from bpm.errors import ConflictError, Forbidden, InvalidRequest, NotFound, PreconditionFailed
from bpm.forms import FormRegistry
from bpm.resources import shipped
from bpm.runtime import tasks
from bpm.runtime.actors import Actor
from bpm.runtime.runtime import Runtime
from bpm.store.models import ProcessDefinition, ProcessInstanceRecord, TaskRecord, User
from bpm.store.vocabulary import DefinitionStatus, TaskStatus

from ..fakes import FakeUnitOfWork, Rows

AT = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
EXPENSE = json.loads((shipped("processes") / "expense-approval.json").read_text())
PEOPLE = {"ann": set(), "bob": set(), "carol": {"finance"}, "frank": {"finance"}, "audrey": set(), "admin": set()}
ROLES = {"audrey": {"auditor"}, "admin": {"admin"}}


def actor(name: str) -> Actor:
    return Actor(name, frozenset(ROLES.get(name, {"employee"})), frozenset(PEOPLE[name]))


@pytest.fixture
def store() -> Rows:
    """Ann's expense, at finance's review: offered to the finance group, unclaimed."""
    rows = Rows()
    rows.definitions[1] = ProcessDefinition(id=1, key="expense-approval", version=1, status=DefinitionStatus.PUBLISHED,
                                            name=EXPENSE["name"], body=EXPENSE, checksum="c", created_by="dana",
                                            created_at=AT, updated_at=AT)
    rows.instances["i1"] = ProcessInstanceRecord(
        id="i1", definition_id=1, definition_key="expense-approval", definition_version=1, status="paused",
        current_node_id="finance_review", snapshot={"context": {"submit": [{"output": {"requester": "ann"}}]}},
        started_by="ann", started_at=AT, updated_at=AT)
    rows.tasks["t1"] = TaskRecord(id="t1", instance_id="i1", node_id="finance_review",
                                  definition_key="expense-approval", title="Finance review",
                                  candidate_groups=["finance"], candidate_users=[], outcomes=["approve", "reject"],
                                  status=TaskStatus.OPEN, created_at=AT, updated_at=AT)
    rows.offers.add(("t1", "group", "finance"))
    rows.users = {name: User(username=name, display_name=name, roles=sorted(ROLES.get(name, {"employee"})),
                             created_at=AT) for name in PEOPLE}
    rows.memberships = {(name, group) for name, groups in PEOPLE.items() for group in groups}
    return rows


@pytest.fixture
def rt(store: Rows) -> Runtime:
    settings = Settings.from_env({})
    clock = ManualClock(int(AT.timestamp() * 1000))
    return Runtime(settings=settings, db=None, sessions=None, forms=FormRegistry.load(settings.forms_dir),  # type: ignore[arg-type]
                   clock=clock, units=lambda: FakeUnitOfWork(store))


def _started_by(store: Rows, name: str) -> None:
    store.instances["i1"].started_by = name


def _claimed_by(store: Rows, name: str) -> None:
    store.tasks["t1"].assignee = name
    store.offers.clear()


CASES = [  # (who, what, prepare, expected: None for done, else the error)
    ("carol", "claim", None, None),
    ("ann", "claim", None, Forbidden),  # she reads her request, but the task is finance's
    ("carol", "claim", lambda s: _started_by(s, "carol"), Forbidden),  # four-eyes: not one's own expense
    ("bob", "claim", None, NotFound),  # not his to see: the task does not exist for him
    ("audrey", "claim", None, Forbidden),  # auditors read, they do not decide
    ("frank", "claim", lambda s: _claimed_by(s, "carol"), ConflictError),
    ("carol", "unclaim", lambda s: _claimed_by(s, "carol"), None),
    ("frank", "unclaim", lambda s: _claimed_by(s, "carol"), Forbidden),
    ("carol", "delegate:frank", lambda s: _claimed_by(s, "carol"), None),
    ("carol", "delegate:ann", lambda s: _claimed_by(s, "carol"), Forbidden),  # not to the requester
    ("carol", "delegate:nobody", lambda s: _claimed_by(s, "carol"), InvalidRequest),
    ("admin", "reassign:frank", None, None),
    ("carol", "reassign:frank", None, Forbidden),  # admins only
    ("carol", "comment", None, None),
    ("bob", "comment", None, NotFound),
    ("carol", "claim@7", None, PreconditionFailed),  # If-Match names a revision the task is not at
]


def _do(rt: Runtime, who: str, what: str) -> object:
    name, _, arg = what.partition(":")
    name, _, revision = name.partition("@")
    expected = int(revision) if revision else None
    person = actor(who)
    if name == "claim":
        return tasks.claim_task(rt, person, "t1", expected)
    if name == "unclaim":
        return tasks.unclaim_task(rt, person, "t1")
    if name == "delegate":
        return tasks.delegate_task(rt, person, "t1", arg)
    if name == "reassign":
        return tasks.reassign_task(rt, person, "t1", arg, "on leave")
    return tasks.comment_on_task(rt, person, "t1", "Checked the receipt.")


@pytest.mark.parametrize(("who", "what", "prepare", "expected"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_a_task_action_is_done_or_refused_as_the_policy_says_and_a_refusal_changes_nothing(rt, store, who, what,
                                                                                         prepare, expected):
    if prepare is not None:
        prepare(store)
    before = copy.deepcopy(store)
    if expected is None:
        _do(rt, who, what)
        assert store.commits == before.commits + 1
        assert len(store.history) == len(before.history) + 1, "the action is in the request's history"
        assert (store.history[-1].actor, store.history[-1].task_id) == (who, "t1")
        assert ("i1", who) in store.participants, "whoever acted may read the request from now on"
    else:
        with pytest.raises(expected):
            _do(rt, who, what)
        assert store == before, "a refused action changed nothing"


def test_claiming_takes_the_task_out_of_the_groups_offers_and_giving_it_back_offers_it_again(rt, store):
    tasks.claim_task(rt, actor("carol"), "t1")
    assert store.tasks["t1"].assignee == "carol" and store.offers == set()
    tasks.unclaim_task(rt, actor("carol"), "t1")
    assert store.tasks["t1"].assignee is None and store.offers == {("t1", "group", "finance")}
    assert [e.cause for e in store.history] == ["task_claimed", "task_unclaimed"]
