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
        name = database_url.rsplit("/", 1)[1]
        admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchone()[0]
        assert killed >= 1
        response = client.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE},
                               headers={"X-BPM-User": "ann"})
        assert response.status_code == 201, response.json
        assert client.get("/api/health").status_code == 200
    finally:
        service.extensions["bpm"].close()
