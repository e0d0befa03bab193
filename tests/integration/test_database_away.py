"""A database outage (issue 23): PostgreSQL refuses connections for a while — every request answers 503 with
Retry-After (it answered 1,124 fast 500s with a traceback each), the log says once that it began and once that it
ended, and the service recovers by itself."""

from __future__ import annotations

import logging

import psycopg
import pytest

from ..conftest import BACKENDS, PG_ADMIN_URL, _create_postgres_database, _drop_postgres_database


@pytest.fixture
def scratch():
    if "postgresql" not in BACKENDS:
        pytest.skip("needs PostgreSQL (the outage is PostgreSQL refusing connections)")
    from bpm.store.migrate import upgrade

    url, name = _create_postgres_database()
    upgrade(url)
    yield url, name
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    _drop_postgres_database(name)


def _outage(name: str, on: bool) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if on else "true"}')
        if on:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def test_an_outage_is_a_503_with_retry_after_said_once_and_the_service_recovers(scratch, caplog):
    from bpm.app import create_app
    from bpm.runtime.demo import load_demo

    url, name = scratch
    app = create_app({"database_url": url, "dev_identity": True, "db_idle_ping_seconds": 0})
    load_demo(app.extensions["bpm"])
    client = app.test_client()
    assert client.get("/api/tasks", headers={"X-BPM-User": "bob"}).status_code == 200
    _outage(name, True)
    with caplog.at_level(logging.WARNING):
        for _ in range(10):
            answer = client.get("/api/tasks", headers={"X-BPM-User": "bob"})
            assert answer.status_code == 503, answer.get_data(as_text=True)[:300]
            assert answer.headers["Retry-After"] == "5" and "try again" in answer.json["message"]
        page = client.get("/inbox", headers={"X-BPM-User": "bob", "Accept": "text/html"})
        assert page.status_code == 503 and "Traceback" not in page.get_data(as_text=True)
        _outage(name, False)
        assert client.get("/api/tasks", headers={"X-BPM-User": "bob"}).status_code == 200
    said = [r.getMessage() for r in caplog.records if r.name == "bpm.store.outage"]
    assert len([m for m in said if "unavailable" in m]) == 1 and said[-1] == "the database is back", said
    assert not [r for r in caplog.records if r.exc_info], "no traceback per request"
    app.extensions["bpm"].close()
