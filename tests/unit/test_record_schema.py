"""Response schemas read records by attribute and dicts by key, and leave out what neither has."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma

from bpm.api.schemas import CamelSchema, TaskSchema
from bpm.store.models import TaskRecord

CREATED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_a_record_and_the_same_values_as_a_dict_dump_alike():
    record = TaskRecord(id="t1", instance_id="i1", node_id="approve", definition_key="p", title="Approve",
                        candidate_users=["ann"], candidate_groups=[], outcomes=["ok"], priority=50,
                        status="open", created_at=CREATED, revision=3)
    dumped = TaskSchema().dump(record)
    assert dumped["instanceId"] == "i1" and dumped["createdAt"] == "2026-01-02T03:04:05+00:00"
    assert dumped["candidateUsers"] == ["ann"] and dumped["revision"] == 3 and dumped["assignee"] is None
    assert TaskSchema().dump(record.model_dump()) == dumped


class _Nested(CamelSchema):
    plain = ma.fields.String()
    deep = ma.fields.String(attribute="inner.value")


class _Holder:
    plain = "here"

    class inner:  # noqa: N801 - an attribute path for the test
        value = "deep"


def test_absent_attributes_are_left_out_and_dotted_paths_still_resolve():
    assert _Nested().dump({"plain": "x"}) == {"plain": "x"}
    assert _Nested().dump(object()) == {}
    assert _Nested().dump(_Holder()) == {"plain": "here", "deep": "deep"}
