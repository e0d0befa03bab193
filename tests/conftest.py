"""Shared fixtures: a real database per backend (SQLite always, PostgreSQL when reachable), app, client."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import text

from bpm.engine import ManualClock

# CI replays the same examples every run (a red CI must be reproducible); locally hypothesis explores.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

PG_ADMIN_URL = os.environ.get("BPM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_available() -> bool:
    """PostgreSQL runs when BPM_TEST_DATABASE_URL is set (then it must work) or the default answers."""
    import psycopg

    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        if "BPM_TEST_DATABASE_URL" in os.environ:
            raise
        return False


BACKENDS = ["sqlite", *(["postgresql"] if _postgres_available() else [])]


def _create_postgres_database() -> tuple[str, str]:
    import psycopg

    name = f"bpm_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{name}", name


def _drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A freshly migrated database on each backend, for the whole session."""
    from bpm.store.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'bpm.db'}"
        upgrade(url)
        yield url
        return
    url, name = _create_postgres_database()
    upgrade(url)
    yield url
    _drop_postgres_database(name)


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    return ManualClock(1_767_225_600_000)  # 2026-01-01T00:00:00Z


@pytest.fixture(scope="session")
def session_app(database_url, clock):
    from bpm.app import create_app

    app = create_app({"database_url": database_url, "dev_identity": True, "db_pool_size": 20}, clock=clock)
    yield app
    app.extensions["bpm"].close()


def wipe(rt) -> None:
    """Empty every table, children first (and forget the engines of the rows that were there)."""
    from bpm.store.models import metadata

    rt.engines.clear()
    with rt.db.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            connection.execute(text("SET LOCAL session_replication_role = replica"))  # history refuses TRUNCATE
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())


def tamper(rt, sql: str, **values) -> None:
    """Change the database past the service, as its owner could (PostgreSQL's append-only triggers bypassed)."""
    with rt.db.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(sql), values)


@pytest.fixture
def app(session_app, clock):
    """The app over an empty database with the demo people and example processes."""
    from bpm.runtime.demo import load_demo

    clock.set(1_767_225_600_000)
    rt = session_app.extensions["bpm"]
    wipe(rt)
    rt.actors.clear()
    load_demo(rt)
    return session_app


@pytest.fixture
def rt(app):
    return app.extensions["bpm"]


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """A test client that acts as one user: ``api.as_('bob').post(...)``."""

    def __init__(self, client, user: str = "ann") -> None:
        self.client, self.user = client, user

    def as_(self, user: str) -> Api:
        return Api(self.client, user)

    def _headers(self, headers: dict | None) -> dict:
        return {"X-BPM-User": self.user, **(headers or {})}

    def get(self, url: str, **kwargs):
        return self.client.get(url, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, url: str, json=None, **kwargs):
        return self.client.post(url, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def put(self, url: str, json=None, **kwargs):
        return self.client.put(url, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, url: str, **kwargs):
        return self.client.delete(url, headers=self._headers(kwargs.pop("headers", None)), **kwargs)


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def database_dump(rt) -> dict[str, list[tuple]]:
    """Every row of every table, for asserting that a failed request changed nothing."""
    from bpm.store.models import metadata

    with rt.db.connect() as connection:
        return {table.name: sorted(map(repr, connection.execute(table.select()).all()))
                for table in metadata.sorted_tables}


EXPENSE = {"requester": "ann", "manager": "bob", "amount": 1500, "currency": "EUR", "description": "new laptop"}
REPO = Path(__file__).resolve().parents[1]
