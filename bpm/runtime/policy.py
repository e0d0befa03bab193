"""Who may do what: the one policy that every caller (API, web pages, scheduler, CLI) goes through.

``require(actor, action, facts)`` allows an action or raises. The rules are
pure functions of the actor and of facts the runtime loads about the target
(``bpm.runtime.access``), so each is tested as a table, without a database.

The rules, in words:

- Roles: ``employee`` starts processes and works on tasks; ``designer``
  changes definitions; ``auditor`` reads everything and changes nothing;
  ``admin`` holds every role and may cancel, retry, repair and reassign;
  an admin decides a task he does not work on only by "acting on behalf"
  of whoever it waits for, with a reason, recorded as such.
  Roles grant powers, never a relation: an admin is no one's manager, so
  four-eyes, ``startableBy`` and "works on this task" apply to admins too.
- Employees read an instance (with its data, tasks, comments and history)
  only if they started it, acted on it, or it has open work assigned or
  offered to them; anyone else is told it does not exist (404). A refused
  change of something the actor may read is a 403.
- Out of office: while someone is away (``bpm.runtime.absences``), their
  substitute works on their tasks as they would, and acts on their behalf;
  four-eyes then holds for both.
- Four-eyes: whoever asked for something (the starter, and whoever a start
  form field names as requester) may not decide it, at every human task
  whose outcomes include a rejection, unless the node or the process says
  ``fourEyes: false``; a node's ``distinctFrom`` bars whoever completed the
  listed nodes. It holds for claiming, completing, delegating and reassigning.
- Files: whoever may comment on an open task may add a file to it; reading
  a file is reading its request; only the person who added a file may
  remove it, and only while its task is open (a decision's files stay).
- A token carries scopes: ``read`` for reads, ``write`` for changes,
  ``admin`` for the admins' actions. A session or the development identity
  carries all three.

Every refusal is logged with actor, action and target.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bpm.config import Role
from bpm.errors import Forbidden, NotFound, shown
from bpm.nodes.votes import rejects
from bpm.runtime.actors import Actor, StandIn
from bpm.store.models import ProcessInstanceRecord, TaskRecord
from bpm.store.vocabulary import InstanceStatus, TaskStatus

logger = logging.getLogger("bpm.policy")



class Action(StrEnum):
    """Everything the policy decides; each names the token scope it needs (``SCOPE_OF``)."""

    DEFINITION_LIST = "definition.list"  # lists show only what the actor may read (bpm.runtime.access)
    DEFINITION_READ = "definition.read"
    DEFINITION_READ_ALL = "definition.read-all"
    DEFINITION_WRITE = "definition.write"
    INSTANCE_START = "instance.start"
    INSTANCE_LIST = "instance.list"
    INSTANCE_READ = "instance.read"
    INSTANCE_READ_ALL = "instance.read-all"
    INSTANCE_CANCEL = "instance.cancel"
    INSTANCE_RETRY = "instance.retry"
    INSTANCE_REPAIR = "instance.repair"
    INSTANCE_MIGRATE = "instance.migrate"  # move running instances of a process to another version
    TASK_LIST = "task.list"
    TASK_READ = "task.read"
    TASK_READ_ALL = "task.read-all"
    TASK_CLAIM = "task.claim"
    TASK_UNCLAIM = "task.unclaim"
    TASK_COMPLETE = "task.complete"
    TASK_DELEGATE = "task.delegate"
    TASK_REASSIGN = "task.reassign"
    TASK_ACT_ON_BEHALF = "task.act-on-behalf"  # an admin decides a task for its assignee, saying why
    TASK_COMMENT = "task.comment"
    ATTACHMENT_ADD = "attachment.add"  # reading one is reading its request: INSTANCE_READ
    ATTACHMENT_REMOVE = "attachment.remove"
    NOTIFICATION_LIST = "notification.list"  # one's own bell: there is no reading anyone else's
    DIRECTORY_READ = "directory.read"  # names, display names and groups of people, for the pickers
    NOTIFICATION_CHANGE = "notification.change"  # mark read, choose how notices come
    ACCOUNT_MANAGE = "account.manage"  # users, groups, other people's tokens
    LEGAL_HOLD = "audit.hold"  # set or lift a legal hold on an instance (retention keeps it)
    RETENTION_PURGE = "audit.purge"  # remove finished instances' data as retention says
    ABSENCE_LIST = "absence.list"  # one's own absences, and those one stands in for
    ABSENCE_READ_ALL = "absence.read-all"  # anyone's (HR and admins)
    ABSENCE_CHANGE = "absence.change"  # record or remove an absence of the person the facts name


READ, WRITE, ADMIN = "read", "write", "admin"
SCOPES = (READ, WRITE, ADMIN)
SCOPE_OF: Mapping[Action, str] = {
    **{action: READ for action in Action if action.value.endswith((".list", ".read", ".read-all"))},
    Action.DEFINITION_WRITE: WRITE, Action.INSTANCE_START: WRITE, Action.INSTANCE_CANCEL: WRITE,
    Action.TASK_CLAIM: WRITE, Action.TASK_UNCLAIM: WRITE, Action.TASK_COMPLETE: WRITE,
    Action.TASK_DELEGATE: WRITE, Action.TASK_COMMENT: WRITE, Action.ATTACHMENT_ADD: WRITE,
    Action.ATTACHMENT_REMOVE: WRITE, Action.NOTIFICATION_CHANGE: WRITE,
    Action.INSTANCE_RETRY: ADMIN, Action.INSTANCE_REPAIR: ADMIN, Action.INSTANCE_MIGRATE: ADMIN,
    Action.TASK_REASSIGN: ADMIN, Action.TASK_ACT_ON_BEHALF: ADMIN,
    Action.ACCOUNT_MANAGE: ADMIN, Action.LEGAL_HOLD: WRITE, Action.RETENTION_PURGE: ADMIN,
    Action.ABSENCE_CHANGE: WRITE,
}


# --- facts the runtime loads about a target (bpm.runtime.access) -------------------------------------------------

@dataclass(frozen=True)
class InstanceFacts:
    """An instance as the policy needs it; the two reads cost a query each and run only when a rule asks."""

    instance: ProcessInstanceRecord
    open_tasks: Callable[[], Sequence[TaskRecord]]
    acted: Callable[[], bool]  # the actor has a participant row
    requester_may_cancel: bool = True  # the definition's "requesterMayCancel" (admins cancel regardless)

    def hidden(self) -> NotFound:
        return NotFound(f"no instance {shown(self.instance.id)}")


@dataclass(frozen=True)
class ApprovalRules:
    """Who may not decide one task: its requesters (when four-eyes holds) and whoever ``distinctFrom`` bars."""

    four_eyes: bool = False
    requesters: frozenset[str] = frozenset()
    barred: Mapping[str, str] = field(default_factory=dict)  # username -> the node they completed
    voters: frozenset[str] = frozenset()  # who cast, or holds, another vote of the same decision


@dataclass(frozen=True)
class TaskFacts:
    """A task, its instance, the approval rules at its node, and (to delegate or reassign) the person it goes to."""

    task: TaskRecord
    instance: InstanceFacts
    rules: ApprovalRules
    target: Actor | None = None

    def hidden(self) -> NotFound:
        return NotFound(f"no task {shown(self.task.id)}")


@dataclass(frozen=True)
class DefinitionFacts:
    """A definition version's status and who may start it (``startableBy`` of its body)."""

    key: str
    status: str
    startable_by: Mapping[str, Any] | None

    def hidden(self) -> NotFound:
        return NotFound(f"no process {shown(self.key)}")


@dataclass(frozen=True)
class AttachmentFacts:
    """A file, who added it, and the task it was added on."""

    attachment_id: str
    added_by: str
    task: TaskFacts

    def hidden(self) -> NotFound:
        return NotFound(f"no attachment {shown(self.attachment_id)}")


@dataclass(frozen=True)
class AbsenceFacts:
    """Whose absence it is, and the group whose members record anyone's (``BPM_ABSENCE_MANAGERS_GROUP``)."""

    person: str
    managers_group: str

    def hidden(self) -> NotFound:
        return NotFound("no such absence")


Facts = InstanceFacts | TaskFacts | DefinitionFacts | AttachmentFacts | AbsenceFacts | None


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused; ``hide`` answers as if the target did not exist."""

    reason: str
    hide: bool = False


# --- the rules ---------------------------------------------------------------------------------------------------

def _works_on_as(username: str, groups: frozenset[str], task: TaskRecord) -> bool:
    if task.assignee is not None:
        return task.assignee == username
    return username in task.candidate_users or not groups.isdisjoint(task.candidate_groups)


def works_on(actor: Actor, task: TaskRecord) -> bool:
    """The assignee, or (while unassigned) a candidate user or member of a candidate group; or the substitute of
    one of them while they are away (``standing_in_for``). Roles add nothing."""
    return _works_on_as(actor.username, actor.groups, task) or standing_in_for(actor, task) is not None


def standing_in_for(actor: Actor, task: TaskRecord) -> StandIn | None:
    """The absence through which the actor works on ``task`` for someone who is away; None when they work on it
    in their own right (which comes first: nobody acts for another what they may do themselves), or not at all."""
    if not actor.stands_in or _works_on_as(actor.username, actor.groups, task):
        return None
    for stand_in in actor.stands_in:
        if stand_in.covers(task) and _works_on_as(stand_in.person, stand_in.groups, task):
            return stand_in
    return None


def may_read_instance(actor: Actor, facts: InstanceFacts) -> bool:
    """Auditors and admins; the starter; anyone who acted on it; anyone its open work waits for.

    ``bpm.store.repositories.instance_lists.readable_by`` is the same rule as SQL, for lists.
    """
    return (actor.has_role(Role.AUDITOR) or facts.instance.started_by == actor.username
            or any(works_on(actor, task) for task in facts.open_tasks()) or facts.acted())


def works_on_requests(actor: Actor) -> bool:
    """True if the actor starts processes and works on tasks (employees): whoever only designs or audits has no
    inbox and no requests to land on, so their menu and home page leave them out."""
    return actor.has_role(Role.EMPLOYEE)


def may_start(actor: Actor, startable_by: Mapping[str, Any] | None) -> bool:
    """Employees may start a process unless its ``startableBy`` names others (users or groups)."""
    if not actor.has_role(Role.EMPLOYEE):
        return False
    if not startable_by:
        return True
    return (actor.username in startable_by.get("users", ())
            or not actor.groups.isdisjoint(startable_by.get("groups", ())))


def decides(outcomes: Collection[str]) -> bool:
    """True if a task with ``outcomes`` decides something, so four-eyes holds there: it offers a choice (two
    outcomes or more, whatever they are called: "approve" / "send-back" is a decision too), or its one outcome
    rejects (``bpm.nodes.votes.rejects``). A task with one outcome that does not reject is work (a rework,
    documents to send), which the requester may do herself."""
    return len(set(outcomes)) > 1 or any(rejects(outcome) for outcome in outcomes)


def barred_from(username: str, rules: ApprovalRules) -> str | None:
    """Why ``username`` may not decide a task with ``rules`` (None if they may)."""
    if rules.four_eyes and username in rules.requesters:
        return f"four-eyes: {username} asked for this, so someone else must decide it"
    if username in rules.voters:
        return f"{username} has a vote in this decision already: one person, one vote"
    node = rules.barred.get(username)
    if node is not None:
        return f"{username} decided step '{node}' of this request; a different person must decide this one"
    return None


def _unless(condition: bool, reason: str, hide: bool = False) -> Refusal | None:
    return None if condition else Refusal(reason, hide)


def _role(*roles: str) -> Callable[[Actor, Any], Refusal | None]:
    def rule(actor: Actor, facts: Any) -> Refusal | None:
        return _unless(actor.has_role(*roles), f"only {' or '.join(roles)} users may do this")
    return rule


def _instance_read(actor: Actor, facts: InstanceFacts) -> Refusal | None:
    return _unless(may_read_instance(actor, facts), "not related to this instance", hide=True)


def _instance_cancel(actor: Actor, facts: InstanceFacts) -> Refusal | None:
    refusal = _instance_read(actor, facts)
    if refusal is not None:
        return refusal
    if not (actor.is_admin or actor.username == facts.instance.started_by):
        return Refusal("only the person who started an instance, or an admin, may cancel it")
    if not actor.is_admin and facts.instance.parent_id is not None:
        return Refusal("this is a step of another of your requests: withdraw that one, and this goes with it")
    if not actor.is_admin and not facts.requester_may_cancel:
        return Refusal("this process does not let its requester withdraw it (requesterMayCancel: false); "
                       "ask an admin")
    return _unless(facts.instance.status != InstanceStatus.FAILED or actor.is_admin,
                   "only an admin may cancel a failed instance (to close it for good)")


def _instance_admin(what: str) -> Callable[[Actor, InstanceFacts], Refusal | None]:
    def rule(actor: Actor, facts: InstanceFacts) -> Refusal | None:
        return _instance_read(actor, facts) or _unless(actor.is_admin, f"only admins may {what} instances")
    return rule


def offered_to(actor: Actor, task: TaskRecord) -> bool:
    """The task is, or was, assigned or offered to the actor (its row keeps its audience for good)."""
    return (actor.username in (task.assignee, task.completed_by, task.delegated_by)
            or actor.username in task.candidate_users or not actor.groups.isdisjoint(task.candidate_groups))


def _task_read(actor: Actor, facts: TaskFacts) -> Refusal | None:
    """Its audience (known without a query), and whoever may read its instance."""
    if offered_to(actor, facts.task):
        return None
    return _unless(may_read_instance(actor, facts.instance), "not related to this task", hide=True)


def _decide(actor: Actor, facts: TaskFacts) -> Refusal | None:
    """Claim or complete: read it, work on it, and not be barred from deciding it."""
    refusal = _task_read(actor, facts)
    if refusal is not None:
        return refusal
    if not works_on(actor, facts.task):
        return Refusal("this task is assigned to someone else, or offered to people and groups you are not among"
                       + ("; as an admin, act on their behalf and say why" if actor.is_admin else ""))
    barred = barred_from(actor.username, facts.rules)
    stand_in = standing_in_for(actor, facts.task)
    if barred is None and stand_in is not None:  # four-eyes holds for both: who acts, and for whom
        barred = barred_from(stand_in.person, facts.rules)
        barred = None if barred is None else f"you stand in for {stand_in.person} here, and {barred}"
    return None if barred is None else Refusal(barred)


def _unclaim(actor: Actor, facts: TaskFacts) -> Refusal | None:
    assignee = facts.task.assignee
    return _task_read(actor, facts) or _unless(
        assignee == actor.username or actor.is_admin or standing_in_for(actor, facts.task) is not None,
        f"only the assignee, their substitute while {assignee} is away, or an admin may unclaim a task")


def _delegate(actor: Actor, facts: TaskFacts) -> Refusal | None:
    """The worker hands the task to someone who could have been offered it and may decide it."""
    refusal = _task_read(actor, facts)
    if refusal is not None:
        return refusal
    if not works_on(actor, facts.task):
        return Refusal("only the assignee or a candidate may delegate this task")
    return _target_refusal(facts, delegating=True)


def may_delegate_someone(actor: Actor, facts: TaskFacts) -> bool:
    """Whether to offer delegating at all: everything ``TASK_DELEGATE`` asks but the person it goes to."""
    if actor.scopes is not None and SCOPE_OF[Action.TASK_DELEGATE] not in actor.scopes:
        return False
    return _task_read(actor, facts) is None and works_on(actor, facts.task)


def may_reassign_tasks(actor: Actor) -> bool:
    """Whether to offer reassigning at all: the admins' power (each reassignment is checked in full)."""
    return (actor.scopes is None or SCOPE_OF[Action.TASK_REASSIGN] in actor.scopes) and actor.is_admin


def _reassign(actor: Actor, facts: TaskFacts) -> Refusal | None:
    return (_task_read(actor, facts) or _unless(actor.is_admin, "only admins may reassign tasks")
            or _target_refusal(facts, delegating=False) or _not_to_oneself(actor, facts))


def _act_on_behalf(actor: Actor, facts: TaskFacts) -> Refusal | None:
    """An admin decides a stuck task for whoever it waits for — as such, recorded with a reason (the runtime asks
    for one), never as himself; four-eyes holds for him and for the person he acts for."""
    refusal = _task_read(actor, facts) or _unless(actor.is_admin, "only admins act on behalf of others")
    if refusal is not None:
        return refusal
    barred = barred_from(actor.username, facts.rules)
    for_whom = facts.task.assignee
    if barred is None and for_whom is not None and for_whom != actor.username:
        barred = barred_from(for_whom, facts.rules)
        barred = None if barred is None else f"you would act for {for_whom}, and {barred}"
    return None if barred is None else Refusal(barred)


def _not_to_oneself(actor: Actor, facts: TaskFacts) -> Refusal | None:
    """An admin's power is to give stuck work to someone who may do it, not to decide it: reassigning a task to
    himself (and then deciding it) is refused unless he is a candidate for it in his own right."""
    task = facts.task
    if facts.target is None or facts.target.username != actor.username:
        return None
    if actor.username in task.candidate_users or not actor.groups.isdisjoint(task.candidate_groups):
        return None
    return Refusal("an admin gives a stuck task to someone who may do it, not to himself: name that person")


def _target_refusal(facts: TaskFacts, delegating: bool) -> Refusal | None:
    target, task = facts.target, facts.task
    if target is None:
        return Refusal("name the person to give the task to")
    if not target.has_role(Role.EMPLOYEE):
        return Refusal(f"{target.username} does not work on tasks (no employee role)")
    offered = task.candidate_users or task.candidate_groups
    if delegating and offered and not (target.username in task.candidate_users
                                       or not target.groups.isdisjoint(task.candidate_groups)):
        return Refusal(f"{target.username} could not have been offered this task: delegate only to its "
                       "candidate users or members of its candidate groups")
    barred = barred_from(target.username, facts.rules)
    return None if barred is None else Refusal(barred)


def _comment(actor: Actor, facts: TaskFacts) -> Refusal | None:
    return _task_read(actor, facts) or _unless(actor.has_role(Role.EMPLOYEE), "auditors read; they do not comment")


def _definition_read(actor: Actor, facts: DefinitionFacts) -> Refusal | None:
    if actor.has_role(Role.DESIGNER, Role.AUDITOR):
        return None
    return _unless(facts.status != "draft" and may_start(actor, facts.startable_by),
                   "not a process you may start", hide=True)


def _instance_start(actor: Actor, facts: DefinitionFacts) -> Refusal | None:
    if not may_start(actor, facts.startable_by):
        hide = not actor.has_role(Role.DESIGNER, Role.AUDITOR)  # they may see it exists, others may not
        return Refusal("this process may be started only by the people and groups its startableBy names"
                       if actor.has_role(Role.EMPLOYEE) else "only employees start processes", hide)
    return None


def _signed_in(actor: Actor, facts: Any) -> Refusal | None:
    return None


def _attach(actor: Actor, facts: TaskFacts) -> Refusal | None:
    """Whoever may comment on a task may add a file to it while it is open; a finished decision's files are kept."""
    return _comment(actor, facts) or _unless(facts.task.status == TaskStatus.OPEN,
                                             "this task is done: files are added to open tasks only")


def _detach(actor: Actor, facts: AttachmentFacts) -> Refusal | None:
    if not may_read_instance(actor, facts.task.instance):
        return Refusal("not related to this request", hide=True)
    return (_unless(facts.added_by == actor.username, "only the person who added a file may remove it")
            or _unless(facts.task.task.status == TaskStatus.OPEN,
                       "the task it was added on is done: the file is part of that decision's record"))


def manages_absences(actor: Actor, facts: AbsenceFacts) -> bool:
    """Admins, and the members of the absence managers' group (HR), record and read anyone's absences."""
    return actor.is_admin or (bool(facts.managers_group) and facts.managers_group in actor.groups)


def _absences_of_anyone(actor: Actor, facts: AbsenceFacts) -> Refusal | None:
    return _unless(manages_absences(actor, facts), "only HR and admins see other people's absences")


def _absence_change(actor: Actor, facts: AbsenceFacts) -> Refusal | None:
    """One's own absence (whoever works on tasks); anyone's for HR and admins. A substitute does not change it."""
    if manages_absences(actor, facts):
        return None
    if facts.person != actor.username:
        return Refusal("only the person who is away, HR or an admin may change an absence", hide=True)
    return _unless(actor.has_role(Role.EMPLOYEE), "only people who work on tasks name a substitute")


RULES: Mapping[Action, Callable[[Actor, Any], Refusal | None]] = {
    Action.DEFINITION_LIST: _signed_in,
    Action.INSTANCE_LIST: _signed_in,
    Action.TASK_LIST: _signed_in,
    Action.NOTIFICATION_LIST: _signed_in,
    Action.DIRECTORY_READ: _signed_in,
    Action.NOTIFICATION_CHANGE: _signed_in,
    Action.DEFINITION_READ: _definition_read,
    Action.DEFINITION_READ_ALL: _role(Role.DESIGNER, Role.AUDITOR),
    Action.DEFINITION_WRITE: _role(Role.DESIGNER),
    Action.INSTANCE_START: _instance_start,
    Action.INSTANCE_READ: _instance_read,
    Action.INSTANCE_READ_ALL: _role(Role.AUDITOR),
    Action.INSTANCE_CANCEL: _instance_cancel,
    Action.INSTANCE_RETRY: _instance_admin("retry"),
    Action.INSTANCE_REPAIR: _instance_admin("repair"),
    Action.INSTANCE_MIGRATE: _role(Role.ADMIN),
    Action.TASK_READ: _task_read,
    Action.TASK_READ_ALL: _role(Role.AUDITOR),
    Action.TASK_CLAIM: _decide,
    Action.TASK_UNCLAIM: _unclaim,
    Action.TASK_COMPLETE: _decide,
    Action.TASK_DELEGATE: _delegate,
    Action.TASK_REASSIGN: _reassign,
    Action.TASK_ACT_ON_BEHALF: _act_on_behalf,
    Action.TASK_COMMENT: _comment,
    Action.ATTACHMENT_ADD: _attach,
    Action.ATTACHMENT_REMOVE: _detach,
    Action.ACCOUNT_MANAGE: _role(Role.ADMIN),
    Action.LEGAL_HOLD: _role(Role.AUDITOR),
    Action.RETENTION_PURGE: _role(Role.ADMIN),
    Action.ABSENCE_LIST: _signed_in,
    Action.ABSENCE_READ_ALL: _absences_of_anyone,
    Action.ABSENCE_CHANGE: _absence_change,
}


def refusal(actor: Actor, action: Action, facts: Facts = None) -> Refusal | None:
    """Why ``actor`` may not do ``action`` on ``facts`` (None if they may); scopes first."""
    scope = SCOPE_OF[action]
    if actor.scopes is not None and scope not in actor.scopes:
        return Refusal(f"this token lacks the '{scope}' scope")
    return RULES[action](actor, facts)


def allows(actor: Actor, action: Action, facts: Facts = None) -> bool:
    """True if ``require`` would let the action through."""
    return refusal(actor, action, facts) is None


def require(actor: Actor, action: Action, facts: Facts = None) -> None:
    """Let the action through, or log the refusal and raise Forbidden (NotFound where existence must not leak)."""
    found = refusal(actor, action, facts)
    if found is None:
        return
    target = _target_of(facts)
    logger.warning("refused: %s %s %s: %s", actor.username, action.value, target, found.reason)
    if found.hide and facts is not None:
        raise facts.hidden()
    raise Forbidden(found.reason)


def _target_of(facts: Facts) -> str:
    if isinstance(facts, InstanceFacts):
        return f"instance {facts.instance.id}"
    if isinstance(facts, TaskFacts):
        return f"task {facts.task.id}"
    if isinstance(facts, DefinitionFacts):
        return f"process {facts.key}"
    if isinstance(facts, AttachmentFacts):
        return f"attachment {facts.attachment_id}"
    if isinstance(facts, AbsenceFacts):
        return f"absence of {facts.person}"
    return "-"

