"""A database restart (here: every server connection killed) costs no request its answer."""

from __future__ import annotations

import psycopg
import pytest

from bpm.app import create_app

from ..conftest import EXPENSE


def test_connections_killed_while_idle_are_replaced_before_a_request_uses_them(app, database_url):
    del app  # loads the demo people and processes into the database
    if not database_url.startswith("postgresql"):
        pytest.skip("only a server database can drop connections")
    service = create_app({"database_url": database_url, "dev_identity": True, "db_idle_ping_seconds": 0})
    client = service.test_client()
    try:
        assert client.get("/api/health").status_code == 200
        assert client.get("/api/definitions", headers={"X-BPM-User": "admin"}).status_code == 200
        pool = service.extensions["bpm"].db.pool
        assert pool.checkedin() == 1, "one pooled connection served every request so far"
        with service.extensions["bpm"].db.connect() as connection:  # that same pooled connection
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as admin:  # only this app's connection dies
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0] is True
        response = client.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE},
                               headers={"X-BPM-User": "ann"})
        assert response.status_code == 201, response.json
        assert client.get("/api/health").status_code == 200
    finally:
        service.extensions["bpm"].close()
