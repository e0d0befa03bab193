"""Queued inserts are written at commit, together; a clash among them fails the whole unit cleanly."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, select, update

from bpm.errors import ConflictError
from bpm.store.direct import DirectStatement
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


# --- queued writes: sent together, checked, all or nothing ------------------------------------------------------

_RENAME = DirectStatement(update(Group.__table__).where(Group.__table__.c.name == bindparam("key"))
                          .values(display_name=bindparam("shown")))
_SHOWN = DirectStatement(select(Group.__table__.c.display_name).where(Group.__table__.c.name == bindparam("key")))


def _shown(rt, name: str) -> str | None:
    with rt.uow() as uow:
        row = _SHOWN.first(uow, {"key": name})
    return None if row is None else row[0]


def _group(rt, name: str) -> None:
    with rt.uow() as uow:
        uow.insert_values(Group, name=name, display_name="original")
        uow.commit()


def test_a_failed_optimistic_lock_among_queued_writes_commits_none_of_them(rt):
    _group(rt, "locked")
    with pytest.raises(ConflictError, match="somebody else renamed it"), rt.uow() as uow:
        uow.insert_values(Group, name="written-before", display_name="Before")
        uow.write(_RENAME, {"key": "locked", "shown": "mine"}, conflict="never raised: the row is there")
        uow.write(_RENAME, {"key": "no-such-group", "shown": "x"}, conflict="somebody else renamed it")
        uow.insert_values(Group, name="written-after", display_name="After")
        uow.commit()
    assert _shown(rt, "locked") == "original"
    assert _shown(rt, "written-before") is None and _shown(rt, "written-after") is None


def test_a_lone_optimistic_lock_that_fails_at_commit_changes_nothing(rt):
    _group(rt, "alone")
    with pytest.raises(ConflictError, match="gone"), rt.uow() as uow:
        uow.write(_RENAME, {"key": "not-alone", "shown": "x"}, conflict="gone")
        uow.commit()
    with rt.uow() as uow:
        uow.write(_RENAME, {"key": "alone", "shown": "renamed"}, conflict="gone")
        uow.commit()
    assert _shown(rt, "alone") == "renamed"


def test_a_read_sees_the_writes_queued_before_it_and_leaving_undoes_them(rt):
    _group(rt, "seen")
    with rt.uow() as uow:
        uow.write(_RENAME, {"key": "seen", "shown": "queued"})
        uow.insert_values(Group, name="seen-new", display_name="new")
        assert _SHOWN.first(uow, {"key": "seen"}) == ("queued",)
        assert _SHOWN.first(uow, {"key": "seen-new"}) == ("new",)
        assert uow.execute(select(func.count()).select_from(Group).where(Group.name == "seen-new")).scalar_one() == 1
    assert _shown(rt, "seen") == "original" and _shown(rt, "seen-new") is None


def test_reads_alone_open_no_transaction_on_postgresql_and_the_pool_gets_its_connection_back_as_lent(rt):
    if rt.db.dialect.name != "postgresql":
        pytest.skip("SQLite begins at first use on purpose (BEGIN IMMEDIATE)")
    from psycopg.pq import TransactionStatus

    _group(rt, "reader")
    with rt.uow() as uow:
        assert _SHOWN.first(uow, {"key": "reader"}) == ("original",)
        driver = uow.connection.connection.dbapi_connection
        assert driver.info.transaction_status == TransactionStatus.IDLE  # no BEGIN was sent for a read
        uow.write(_RENAME, {"key": "reader", "shown": "written"})
        uow.flush_writes()
        assert driver.info.transaction_status == TransactionStatus.INTRANS  # the write began one
    assert _shown(rt, "reader") == "original"  # left without commit
    with rt.db.connect() as connection:
        assert connection.connection.dbapi_connection.autocommit is False


def test_prepared_statements_survive_a_rolled_back_unit_on_the_same_connection(rt):
    """On PostgreSQL the hot statements are PREPAREd once per connection; a rollback must not lose them."""
    from bpm.store.db import make_engine, make_session_factory
    from bpm.store.uow import UnitOfWork

    engine = make_engine(str(rt.db.url.render_as_string(hide_password=False)), pool_size=1)
    try:
        def unit() -> UnitOfWork:
            return UnitOfWork(engine, make_session_factory(engine))

        with unit() as uow:
            uow.insert_values(Group, name="prep-1", display_name="original")
            uow.commit()
        # each time a failed unit, then a good one, on the one pooled connection (past psycopg's prepare threshold)
        for attempt in range(7):
            with pytest.raises(ConflictError), unit() as uow:
                uow.write(_RENAME, {"key": "prep-1", "shown": f"lost {attempt}"})
                uow.write(_RENAME, {"key": "absent", "shown": "x"}, conflict="conflict")
                uow.commit()
            with unit() as uow:
                assert _SHOWN.first(uow, {"key": "prep-1"}) == ("original",)
                uow.insert_values(Group, name=f"prep-ok-{attempt}", display_name="ok")
                uow.write(_RENAME, {"key": "prep-1", "shown": "original"}, conflict="conflict")
                uow.commit()
        assert engine.pool.checkedin() == 1
    finally:
        engine.dispose()


def test_a_row_locking_read_holds_its_lock_until_the_unit_ends(rt):
    """Reads before the first write run in autocommit on PostgreSQL, except those that lock rows."""
    if rt.db.dialect.name != "postgresql":
        pytest.skip("SQLite locks the whole database at BEGIN IMMEDIATE; FOR UPDATE is not SQL there")
    _group(rt, "locked-row")
    locking = DirectStatement(select(Group.__table__.c.name).where(Group.__table__.c.name == bindparam("key"))
                              .with_for_update(nowait=True))
    with rt.uow() as holder:
        assert locking.first(holder, {"key": "locked-row"}) == ("locked-row",)
        with pytest.raises(Exception, match="could not obtain lock"), rt.uow() as other:
            locking.first(other, {"key": "locked-row"})
    with rt.uow() as later:  # released with the unit
        assert locking.first(later, {"key": "locked-row"}) == ("locked-row",)
