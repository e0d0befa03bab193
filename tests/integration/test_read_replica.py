"""Heavy reads on a real streaming replica (BPM_DATABASE_REPLICA_URL): a person who has just acted reads their
own change even while the replica lags (their reads go to the primary until it has replayed their write),
everyone else reads the replica, exports stream from it, and a replica that goes away costs no request
anything."""

from __future__ import annotations

import os
import time

import pytest

from bpm.app import create_app
from tests import replica as replicas
from tests.conftest import EXPENSE, Api


@pytest.fixture(scope="module")
def standby(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a streaming replica is PostgreSQL's")
    if not replicas.available():
        pytest.skip("PostgreSQL's server programs are not installed")
    try:
        with replicas.streaming_replica(database_url) as replica:
            yield replica
    except RuntimeError as error:
        if os.environ.get("BPM_REQUIRE_REPLICA"):
            raise
        pytest.skip(str(error))


@pytest.fixture
def replicated(app, standby, database_url, clock):
    """The app reading heavy lists from the standby (the test database, as the primary streams it)."""
    standby.execute("SELECT pg_wal_replay_resume()")
    name = database_url.rsplit("/", 1)[1]
    reading = create_app({"database_url": database_url, "database_replica_url": standby.url(name),
                          "dev_identity": True}, clock=clock)
    rt = reading.extensions["bpm"]
    _caught_up(rt)
    yield reading
    standby.execute("SELECT pg_wal_replay_resume()")
    rt.close()


def _caught_up(rt, seconds: float = 30) -> None:
    """Until the standby has replayed everything the primary has committed so far."""
    from sqlalchemy import text

    from bpm.store.replica import lsn

    with rt.uow() as uow:
        target = lsn(uow.connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar())
    deadline = time.monotonic() + seconds
    while not rt.replica.can_serve(target):
        assert time.monotonic() < deadline, "the standby did not catch up"
        time.sleep(0.05)  # (a real server replaying WAL)


def _mine(api: Api) -> set[str]:
    listed = api.get("/api/instances?startedBy=ann&page_size=100")
    assert listed.status_code == 200, listed.json
    return {row["id"] for row in listed.json}


def test_a_person_reads_their_own_write_while_the_replica_lags_and_others_read_the_replica(replicated, standby):
    rt = replicated.extensions["bpm"]
    ann, bob = Api(replicated.test_client(), "ann"), Api(replicated.test_client(), "bob")
    assert _mine(ann) == set() and rt.replica.reads["replica"] >= 1, "nothing written yet: the replica answers"
    standby.execute("SELECT pg_wal_replay_pause()")  # the replica lags from here on
    started = ann.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
    assert started.status_code == 201
    before = dict(rt.replica.reads)
    assert started.json["id"] in _mine(ann), "ann sees her own request"
    assert rt.replica.reads["primary"] == before["primary"] + 1, "...read on the primary"
    listed = bob.get("/api/tasks?page_size=100")
    assert listed.status_code == 200
    assert started.json["openTasks"][0]["id"] not in {t["id"] for t in listed.json}, "bob reads the lagging replica"
    assert rt.replica.reads["replica"] == before["replica"] + 1
    page = ann.get("/requests")
    assert page.status_code == 200 and started.json["id"] in page.get_data(as_text=True), "her page too"

    standby.execute("SELECT pg_wal_replay_resume()")
    _caught_up(rt)
    before = dict(rt.replica.reads)
    assert started.json["id"] in _mine(ann) and rt.replica.reads["replica"] == before["replica"] + 1, \
        "once replayed, her reads go to the replica"
    assert started.json["openTasks"][0]["id"] in {t["id"] for t in bob.get("/api/tasks?page_size=100").json}



def test_an_api_client_reads_its_own_write_through_another_server_process(replicated, standby, database_url, clock):
    """Behind a load balancer an API client's next request may reach another process: what it wrote is known
    there too (the position is kept on the primary, not in the process that took the write)."""
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import create_token
    from bpm.runtime.policy import SCOPES

    name = database_url.rsplit("/", 1)[1]
    other = create_app({"database_url": database_url, "database_replica_url": standby.url(name), "dev_identity": True},
                       clock=clock)
    try:
        writer, reader = replicated.extensions["bpm"], other.extensions["bpm"]
        token = create_token(writer, SYSTEM_ACTOR, "ann", "script", SCOPES).text
        bearer = {"Authorization": f"Bearer {token}"}
        _caught_up(writer)
        standby.execute("SELECT pg_wal_replay_pause()")  # the replica lags from here on
        started = replicated.test_client().post("/api/instances", headers=bearer,
                                                json={"definition": "expense-approval", "payload": EXPENSE})
        assert started.status_code == 201, started.json
        before = dict(reader.replica.reads)
        listed = other.test_client().get("/api/instances?startedBy=ann&page_size=100", headers=bearer)
        assert listed.status_code == 200 and started.json["id"] in {row["id"] for row in listed.json}, \
            "ann's script reads its new request through the other process"
        assert reader.replica.reads == {**before, "primary": before["primary"] + 1}, "...on the primary"
        bob = Api(other.test_client(), "bob")
        assert started.json["openTasks"][0]["id"] not in {t["id"] for t in bob.get("/api/tasks?page_size=100").json}
        assert reader.replica.reads["replica"] == before["replica"] + 1, "bob, who wrote nothing, reads the replica"

        standby.execute("SELECT pg_wal_replay_resume()")
        _caught_up(reader)
        listed = other.test_client().get("/api/instances?startedBy=ann&page_size=100", headers=bearer)
        assert started.json["id"] in {row["id"] for row in listed.json}
        assert reader.replica.reads["replica"] == before["replica"] + 2, "once replayed, her reads go there too"
    finally:
        other.extensions["bpm"].close()


def test_a_change_whose_position_cannot_be_noted_still_succeeds(replicated, database_url, caplog):
    """The change is committed before its position is noted: a failure there must not answer 500 (the client
    would send it again); it is logged."""
    import psycopg

    plain_url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE read_position RENAME TO read_position_away")
    try:
        started = Api(replicated.test_client(), "ann").post(
            "/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
        assert started.status_code == 201, started.json
        assert "could not be noted" in caplog.text
    finally:
        with psycopg.connect(plain_url, autocommit=True) as conn:
            conn.execute("ALTER TABLE read_position_away RENAME TO read_position")
    assert started.json["id"] in _mine(Api(replicated.test_client(), "ann")), "her request is there"


def test_reads_fall_back_to_the_primary_when_the_replica_goes_away(replicated, standby, database_url):
    rt = replicated.extensions["bpm"]
    ann = Api(replicated.test_client(), "ann")
    started = ann.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
    standby.stop()
    try:
        before = rt.replica.reads["primary"]
        for _ in range(3):
            assert started.json["id"] in _mine(ann)
            assert Api(replicated.test_client(), "bob").get("/inbox?view=mine").status_code == 200
        assert rt.replica.reads["primary"] == before + 6, "every read answered by the primary"
    finally:
        subprocess_start(standby)


def test_an_export_streams_from_the_replica_or_from_the_primary_when_the_replica_is_gone(replicated, standby):
    rt = replicated.extensions["bpm"]
    started = Api(replicated.test_client(), "ann").post(
        "/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
    _caught_up(rt)
    audrey = Api(replicated.test_client(), "audrey")
    before = dict(rt.replica.reads)
    export = audrey.get("/api/audit/export?format=csv")
    assert export.status_code == 200 and started.json["id"] in export.get_data(as_text=True)
    assert rt.replica.reads["replica"] == before["replica"] + 1, "streamed from the replica"
    standby.stop()
    try:
        export = audrey.get("/api/audit/export?format=json")
        assert export.status_code == 200 and started.json["id"] in export.get_data(as_text=True)
        assert rt.replica.reads["primary"] == before["primary"] + 1, "from the primary while the replica is away"
    finally:
        subprocess_start(standby)


def subprocess_start(standby: replicas.Replica) -> None:
    """Start the stopped standby again (the module's other tests use it)."""
    import subprocess

    subprocess.run(replicas._as_postgres(str(standby.binaries / "pg_ctl"), "-D", str(standby.folder / "data"),
                                         "-l", str(standby.folder / "log"), "-w", "start"),
                   capture_output=True, timeout=120, check=True)
