"""The status moves of instances, tasks and jobs: each table says, for every status, whether a move may start."""

from __future__ import annotations

import pytest

from bpm.errors import ConflictError
from bpm.runtime.transitions import CLOSED, ENDED, INSTANCE, JOB, RUNNING, STOPPED, TASK
from bpm.store.vocabulary import InstanceStatus, JobStatus, TaskStatus

S = InstanceStatus
EXPECTED_INSTANCE = {  # move: the statuses it may start from
    "cancel": {S.ACTIVE, S.PAUSED, S.ERROR, S.FAILED},
    "repair": {S.ACTIVE, S.PAUSED, S.ERROR, S.FAILED},
    "retry": {S.FAILED, S.ERROR},
    "migrate": {S.ACTIVE, S.PAUSED, S.ERROR},
}


@pytest.mark.parametrize("move", sorted(EXPECTED_INSTANCE))
@pytest.mark.parametrize("status", list(InstanceStatus))
def test_an_instance_move_starts_only_where_the_table_says(move, status):
    allowed = status in EXPECTED_INSTANCE[move]
    assert INSTANCE.allows(move, status) is allowed
    if allowed:
        INSTANCE.require(move, status)
    else:
        with pytest.raises(ConflictError, match=str(status)):
            INSTANCE.require(move, status)


def test_the_status_groups_are_what_their_names_say():
    assert {S.COMPLETED, S.CANCELLED} == CLOSED
    assert {S.FAILED, S.ERROR} == STOPPED
    assert {S.COMPLETED, S.CANCELLED, S.FAILED} == ENDED
    assert set(InstanceStatus) == RUNNING | ENDED and not RUNNING & CLOSED


@pytest.mark.parametrize("status", list(TaskStatus))
def test_a_task_is_acted_on_only_while_open(status):
    for move in TASK.moves:
        assert TASK.allows(move, status) is (status == TaskStatus.OPEN)
    if status != TaskStatus.OPEN:
        with pytest.raises(ConflictError, match=f"the task is already {status}"):
            TASK.require("complete", status)


@pytest.mark.parametrize("status", list(JobStatus))
def test_a_job_is_finished_or_given_back_only_while_running_and_retried_only_as_an_incident(status):
    assert JOB.allows("finish", status) is (status == JobStatus.RUNNING)
    assert JOB.allows("give back", status) is (status == JobStatus.RUNNING)
    assert JOB.allows("retry incident", status) is (status == JobStatus.INCIDENT)
