"""Queued inserts are written at commit, together; a clash among them fails the whole unit cleanly."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bpm.errors import ConflictError
from bpm.store.models import Group, User


def _groups(rt) -> int:
    with rt.uow() as uow:
        return uow.execute(select(func.count()).select_from(Group)).scalar_one()


def test_a_clash_among_queued_inserts_is_a_conflict_and_writes_nothing(rt):
    before = _groups(rt)
    with pytest.raises(ConflictError), rt.uow() as uow:
        uow.insert_values(Group, name="night-shift", display_name="Night shift")
        uow.insert_values(Group, name="weekend", display_name="Weekend")
        uow.insert_values(Group, name="night-shift", display_name="Night shift again")
        uow.commit()
    assert _groups(rt) == before
    with rt.uow() as uow:  # the pooled connection came back usable
        uow.insert_values(Group, name="weekend", display_name="Weekend")
        uow.commit()
    assert _groups(rt) == before + 1


def test_queued_inserts_and_orm_changes_commit_in_one_transaction(rt):
    with rt.uow() as uow:
        uow.session.add(User(username="zed", display_name="Zed", roles=["employee"], created_at=rt.now()))
        uow.insert_values(Group, name="zeds", display_name="Zeds")
        uow.commit()
    with rt.uow() as uow:
        assert uow.session.get(User, "zed") is not None
        assert uow.execute(select(Group.name).where(Group.name == "zeds")).scalar_one() == "zeds"


def test_leaving_without_commit_writes_nothing(rt):
    before = _groups(rt)
    with rt.uow() as uow:
        uow.insert_values(Group, name="never", display_name="Never")
        uow.session.add(User(username="ghost", display_name="Ghost", roles=[], created_at=rt.now()))
        uow.flush()
    assert _groups(rt) == before
    with rt.uow() as uow:
        assert uow.session.get(User, "ghost") is None
