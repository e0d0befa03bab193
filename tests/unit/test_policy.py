"""The policy's rules as tables: pure functions of an actor and facts, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from bpm.errors import Forbidden, NotFound
from bpm.runtime.actors import Actor
from bpm.runtime.policy import (
    Action,
    ApprovalRules,
    DefinitionFacts,
    InstanceFacts,
    TaskFacts,
    barred_from,
    decides,
    may_start,
    refusal,
    require,
    works_on,
)
from bpm.store.models import ProcessInstanceRecord, TaskRecord

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ANN = Actor("ann", frozenset({"employee"}))
BOB = Actor("bob", frozenset({"employee"}))
CAROL = Actor("carol", frozenset({"employee"}), frozenset({"finance"}))
AUDREY = Actor("audrey", frozenset({"auditor"}))
ADMIN = Actor("admin", frozenset({"admin"}))
DANA = Actor("dana", frozenset({"employee", "designer"}))


def _task(**values) -> TaskRecord:
    fields = {"id": "t1", "instance_id": "i1", "node_id": "review", "definition_key": "p", "title": "t",
              "assignee": None, "candidate_users": [], "candidate_groups": [], "outcomes": ["approve", "reject"],
              "status": "open", "created_at": NOW, **values}
    return TaskRecord.model_construct(**fields)


def _instance(started_by: str = "ann", status: str = "paused") -> ProcessInstanceRecord:
    return ProcessInstanceRecord.model_construct(id="i1", started_by=started_by, status=status)


def _facts(task: TaskRecord, acted: bool = False, rules: ApprovalRules | None = None,
           target: Actor | None = None) -> TaskFacts:
    instance = InstanceFacts(_instance(), lambda: [task] if task.status == "open" else [], lambda: acted)
    return TaskFacts(task, instance, rules or ApprovalRules(True, frozenset({"ann"})), target)


@pytest.mark.parametrize(("actor", "task", "expected"), [
    (BOB, _task(assignee="bob"), True),
    (CAROL, _task(assignee="bob"), False),
    (CAROL, _task(candidate_groups=["finance"]), True),
    (CAROL, _task(candidate_groups=["finance"], assignee="frank"), False),
    (BOB, _task(candidate_users=["bob"]), True),
    (ADMIN, _task(assignee="bob"), False),  # roles grant no relation
    (ADMIN, _task(), False),  # offered to nobody: nobody's, not everybody's
])
def test_who_works_on_a_task(actor, task, expected):
    assert works_on(actor, task) is expected


@pytest.mark.parametrize(("outcomes", "expected"), [
    (["approve", "reject"], True), (["Rejected"], True), (["deny"], True), (["declined", "ok"], True),
    (["complete"], False), (["resubmit"], False), (["approve"], False)])
def test_which_tasks_decide(outcomes, expected):
    assert decides(outcomes) is expected


def test_four_eyes_and_distinct_from_bar_people():
    rules = ApprovalRules(True, frozenset({"ann", "boss"}), {"carol": "first"})
    assert barred_from("ann", rules).startswith("four-eyes: ann")
    assert barred_from("boss", rules).startswith("four-eyes: boss")
    assert "step 'first'" in barred_from("carol", rules)
    assert barred_from("bob", rules) is None
    assert barred_from("ann", ApprovalRules(False, frozenset({"ann"}))) is None


@pytest.mark.parametrize(("actor", "startable_by", "expected"), [
    (ANN, None, True), (AUDREY, None, False), (ADMIN, None, True),
    (ANN, {"groups": ["finance"]}, False), (CAROL, {"groups": ["finance"]}, True),
    (ANN, {"users": ["ann"]}, True), (ADMIN, {"groups": ["finance"]}, False)])
def test_who_may_start(actor, startable_by, expected):
    assert may_start(actor, startable_by) is expected


# (actor, action, facts) -> None (allowed), "hide" (404) or "refuse" (403)
def _matrix():
    bobs = _task(assignee="bob")
    finance = _task(candidate_groups=["finance"])
    done = _task(assignee="bob", status="completed", completed_by="bob")
    return [
        (BOB, Action.TASK_COMPLETE, _facts(bobs), None),
        (ANN, Action.TASK_COMPLETE, _facts(bobs), "refuse"),  # the starter reads it, may not decide it
        (CAROL, Action.TASK_COMPLETE, _facts(bobs), "hide"),
        (ADMIN, Action.TASK_COMPLETE, _facts(bobs), "refuse"),
        (AUDREY, Action.TASK_READ, _facts(bobs), None),
        (AUDREY, Action.TASK_COMMENT, _facts(bobs), "refuse"),
        (CAROL, Action.TASK_CLAIM, _facts(finance), None),
        (CAROL, Action.TASK_CLAIM, _facts(finance, rules=ApprovalRules(True, frozenset({"carol"}))), "refuse"),
        (BOB, Action.TASK_CLAIM, _facts(finance), "hide"),
        (BOB, Action.TASK_READ, _facts(done), None),
        (CAROL, Action.TASK_READ, _facts(done), "hide"),
        (CAROL, Action.TASK_READ, _facts(done, acted=True), None),
        (BOB, Action.TASK_UNCLAIM, _facts(bobs), None),
        (ANN, Action.TASK_UNCLAIM, _facts(bobs), "refuse"),
        (BOB, Action.TASK_DELEGATE, _facts(bobs, target=CAROL), None),
        (BOB, Action.TASK_DELEGATE, _facts(bobs, target=ANN), "refuse"),  # the requester
        (BOB, Action.TASK_DELEGATE, _facts(bobs, target=AUDREY), "refuse"),  # works on no tasks
        (BOB, Action.TASK_DELEGATE, _facts(bobs), "refuse"),  # to nobody
        (CAROL, Action.TASK_DELEGATE, _facts(finance, target=BOB), "refuse"),  # not a candidate
        (ADMIN, Action.TASK_REASSIGN, _facts(bobs, target=CAROL), None),
        (ADMIN, Action.TASK_REASSIGN, _facts(bobs, target=ANN), "refuse"),
        (BOB, Action.TASK_REASSIGN, _facts(bobs, target=CAROL), "refuse"),
        (ANN, Action.INSTANCE_CANCEL, _facts(bobs).instance, None),
        (BOB, Action.INSTANCE_CANCEL, _facts(bobs).instance, "refuse"),
        (CAROL, Action.INSTANCE_CANCEL, _facts(bobs).instance, "hide"),
        (ADMIN, Action.INSTANCE_RETRY, _facts(bobs).instance, None),
        (ANN, Action.INSTANCE_RETRY, _facts(bobs).instance, "refuse"),
        (DANA, Action.DEFINITION_WRITE, None, None),
        (ANN, Action.DEFINITION_WRITE, None, "refuse"),
        (ANN, Action.DEFINITION_READ, DefinitionFacts("p", "draft", None), "hide"),
        (DANA, Action.DEFINITION_READ, DefinitionFacts("p", "draft", None), None),
        (ANN, Action.INSTANCE_START, DefinitionFacts("p", "published", {"groups": ["hr"]}), "hide"),
        (DANA, Action.INSTANCE_START, DefinitionFacts("p", "published", {"groups": ["hr"]}), "refuse"),
        (ANN, Action.TASK_READ_ALL, None, "refuse"),
        (AUDREY, Action.INSTANCE_READ_ALL, None, None),
        (ADMIN, Action.ACCOUNT_MANAGE, None, None),
        (DANA, Action.ACCOUNT_MANAGE, None, "refuse"),
    ]


@pytest.mark.parametrize(("actor", "action", "facts", "expected"), _matrix())
def test_the_policy_matrix(actor, action, facts, expected):
    found = refusal(actor, action, facts)
    assert (None if found is None else "hide" if found.hide else "refuse") == expected, found
    if expected == "hide":
        with pytest.raises(NotFound):
            require(actor, action, facts)
    elif expected == "refuse":
        with pytest.raises(Forbidden):
            require(actor, action, facts)


def test_every_action_has_a_rule_and_a_scope():
    from bpm.runtime.policy import RULES, SCOPE_OF

    assert set(RULES) == set(Action) == set(SCOPE_OF)


@pytest.mark.parametrize(("scopes", "action", "allowed"), [
    (frozenset({"read"}), Action.TASK_READ_ALL, True), (frozenset({"read"}), Action.DEFINITION_WRITE, False),
    (frozenset({"read", "write"}), Action.DEFINITION_WRITE, True),
    (frozenset({"read", "write"}), Action.ACCOUNT_MANAGE, False),
    (frozenset({"admin"}), Action.ACCOUNT_MANAGE, True), (frozenset({"admin"}), Action.TASK_LIST, False)])
def test_a_token_does_only_what_its_scopes_allow(scopes, action, allowed):
    actor = Actor("admin", frozenset({"admin"}), scopes=scopes)
    assert (refusal(actor, action) is None) is allowed


def test_a_refusal_is_logged_with_actor_action_and_target(caplog):
    with pytest.raises(NotFound):
        require(CAROL, Action.TASK_COMPLETE, _facts(_task(assignee="bob")))
    assert "refused: carol task.complete task t1" in caplog.text


def test_requester_fields_are_the_current_user_fields_and_those_marked_x_bpm_requester():
    from bpm.forms import parse_form

    form = parse_form({"id": "f", "title": "F", "schema": {"type": "object", "properties": {
        "me": {"type": "string"}, "boss": {"type": "string", "x-bpm-requester": True},
        "who": {"type": "string", "x-bpm-actor": True}, "other": {"type": "string"}}},
        "ui": {"widgets": {"me": "current-user"}}})
    assert form.actor_fields == ("me", "who")
    assert form.requester_fields == ("me", "who", "boss")
