"""The read rule twice: ``policy.may_read_instance`` decides a single read, ``instance_lists.readable_by`` says the
same as SQL for lists. On generated people, groups, instances, tasks and offers they must agree instance by
instance, on both databases: a list never shows what a read refuses, nor hides what it allows."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpm.runtime import offers
from bpm.runtime.access import instance_facts, reader_of
from bpm.runtime.actors import Actor
from bpm.runtime.policy import may_read_instance
from bpm.store.models import Participant, ProcessInstance, TaskRecord
from bpm.store.vocabulary import InstanceStatus, TaskStatus

PEOPLE = ("ann", "bob", "carol")
GROUPS = ("finance", "editors")
AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

tasks = st.fixed_dictionaries({
    "status": st.sampled_from(list(TaskStatus)),
    "assignee": st.none() | st.sampled_from(PEOPLE),
    "users": st.lists(st.sampled_from(PEOPLE), max_size=2, unique=True),
    "groups": st.lists(st.sampled_from(GROUPS), max_size=2, unique=True),
})
instances = st.fixed_dictionaries({
    "started_by": st.sampled_from(PEOPLE),
    "acted": st.lists(st.sampled_from(PEOPLE), max_size=2, unique=True),
    "tasks": st.lists(tasks, max_size=3),
})
readers = st.tuples(st.sampled_from(PEOPLE), st.frozensets(st.sampled_from(GROUPS)))


def _store(rt, world: list[dict]) -> list[str]:
    """The generated instances as the runtime would leave them: offers only for claimable tasks."""
    ids = []
    with rt.uow() as uow:
        definition_id, version = uow.definitions.newest_published("expense-approval")
        for made in world:
            instance_id = str(uuid.uuid4())
            ids.append(instance_id)
            uow.objects.add(ProcessInstance(
                id=instance_id, definition_id=definition_id, definition_key="expense-approval",
                definition_version=version, status=InstanceStatus.PAUSED, snapshot={}, started_by=made["started_by"],
                started_at=AT, updated_at=AT), now=True)
            for username in made["acted"]:
                uow.objects.add(Participant(instance_id=instance_id, username=username, since=AT))
            for n, spec in enumerate(made["tasks"]):
                task = TaskRecord(id=str(uuid.uuid4()), instance_id=instance_id, node_id=f"n{n}",
                                  definition_key="expense-approval", title="t", assignee=spec["assignee"],
                                  candidate_users=spec["users"], candidate_groups=spec["groups"], outcomes=[],
                                  status=spec["status"], created_at=AT, updated_at=AT)
                uow.tasks.add(task)
                offers.offer(uow, task)
        uow.commit()
    return ids


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=st.lists(instances, min_size=1, max_size=4), who=readers)
def test_a_list_shows_exactly_the_instances_a_read_allows(rt, world, who):
    ids = _store(rt, world)
    actor = Actor(who[0], frozenset({"employee"}), who[1])
    with rt.uow() as uow:
        listed = uow.instance_lists.readable_ids(reader_of(actor), ids)
        allowed = {i for i in ids if may_read_instance(actor, instance_facts(uow, actor, uow.instances.get(i)))}
    assert listed == allowed
