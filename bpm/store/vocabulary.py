"""The service's words, named once: statuses, job kinds, history causes.

Models, runtime and API schemas import these instead of repeating strings;
each is a ``StrEnum``, so a member is the string the database and the wire
hold (``TaskStatus.OPEN == "open"``), and a misspelling is an AttributeError
instead of a query that silently matches nothing.
"""

from __future__ import annotations

from enum import StrEnum

from bpm.engine.snapshot import RunStatus


class InstanceStatus(StrEnum):
    """A process instance's status: the engine's run statuses, plus cancelled (the service's)."""

    ACTIVE = RunStatus.ACTIVE.value
    PAUSED = RunStatus.PAUSED.value
    ERROR = RunStatus.ERROR.value
    COMPLETED = RunStatus.COMPLETED.value
    FAILED = RunStatus.FAILED.value
    CANCELLED = "cancelled"


STATUS_WORDS: dict[str, str] = {
    InstanceStatus.ACTIVE: "running",  # being run now, or a slice waits for the worker to go on
    InstanceStatus.PAUSED: "in progress",  # waiting for a person, a timer or a sub-process
    InstanceStatus.ERROR: "held up",  # a step failed: an admin retries, repairs or cancels it
    InstanceStatus.COMPLETED: "completed",
    InstanceStatus.FAILED: "failed",
    InstanceStatus.CANCELLED: "cancelled",
}


def status_word(status: str) -> str:
    """The one word every page uses for an instance's status (the API and exports keep the value itself)."""
    return STATUS_WORDS.get(status, status)


def request_state(status: str, outcome: str | None) -> str:
    """How a request stands, in a word: its outcome once it has one, else its status's word."""
    return outcome or status_word(status)


class TaskStatus(StrEnum):
    """A human task's status."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DefinitionStatus(StrEnum):
    """A process definition version's status."""

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class JobKind(StrEnum):
    """What a durable job does when it falls due."""

    TIMER = "timer"
    RETRY = "retry"
    ESCALATION = "escalation"
    CONTINUATION = "continuation"
    CALL_RETURN = "call_return"  # a child instance ended: its parent's call step goes on (or is an incident)


class JobStatus(StrEnum):
    """Where a job is in its life."""

    PENDING = "pending"
    RUNNING = "running"  # claimed by a worker until locked_until
    DONE = "done"
    CANCELLED = "cancelled"
    INCIDENT = "incident"  # failed too often: waits for an admin (bpm.runtime.jobs.retry_incident)


class OutboxStatus(StrEnum):
    """Where a message waiting for delivery is."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker until locked_until
    SENT = "sent"
    FAILED = "failed"  # not used for new messages: they end "dead" after their attempts
    DEAD = "dead"  # a dead letter: failed every attempt; an admin may send it again


class Cause(StrEnum):
    """Why a history entry was written."""

    STARTED = "started"
    TASK_COMPLETED = "task_completed"
    TASK_CREATED = "task_created"  # who it went to, when it is due (the step that made it is the entry before)
    CANCELLED = "cancelled"
    RETRIED = "retried"
    REPAIRED = "repaired"
    MIGRATED = "migrated"  # moved to another version of its process, with its nodes mapped
    CALL_RETURNED = "call_returned"  # the child a call step started ended: the parent goes on with its output
    TASK_CLAIMED = "task_claimed"
    TASK_UNCLAIMED = "task_unclaimed"
    TASK_DELEGATED = "task_delegated"
    TASK_COMMENTED = "task_commented"
    TASK_REASSIGNED = "task_reassigned"
    VOTE_CAST = "vote_cast"
    TIMER_FIRED = "timer_fired"
    CONTINUED = "continued"
    TASK_REMINDED = "task_reminded"
    TASK_ESCALATED = "task_escalated"
    TASK_TIMED_OUT = "task_timed_out"
    BRANCH_CANCELLED = "branch_cancelled"  # a join with cancelRemaining fired: the other branches' tasks end
    ITEMS_DECIDED = "items_decided"  # forEach: the items decided already (a reject, enough approvals)
    ATTACHMENT_ADDED = "attachment_added"
    ATTACHMENT_REMOVED = "attachment_removed"
    PURGED = "purged"  # the tombstone retention leaves in place of the entries it removed


class AdminCause(StrEnum):
    """Why an entry of the definitions-and-administration chain (``audit_event``) was written."""

    DEFINITION_PUBLISHED = "definition_published"
    DEFINITION_RETIRED = "definition_retired"
    FORM_PUBLISHED = "form_published"
    FORM_RETIRED = "form_retired"
    EXPORT_MADE = "export_made"
    PURGE = "purge"
    LEGAL_HOLD_SET = "legal_hold_set"
    LEGAL_HOLD_LIFTED = "legal_hold_lifted"
    USER_CREATED = "user_created"
    PASSWORD_SET = "password_set"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    GROUP_CREATED = "group_created"
    MEMBER_ADDED = "member_added"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    ABSENCE_RECORDED = "absence_recorded"
    ABSENCE_REMOVED = "absence_removed"
