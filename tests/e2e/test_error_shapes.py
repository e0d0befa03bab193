"""One error shape for the API; pages get their own; a bug is a 500 with a reference, never "try again"."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import insert

from bpm.store.models import Task
from bpm.store.uow import StoreBug


def test_the_json_error_shape_is_the_apis_and_pages_get_html(client):
    api = client.get("/api/instances/nope", headers={"X-BPM-User": "ann"})
    assert api.status_code == 404 and api.is_json and api.json["code"] == 404
    page = client.get("/no-such-page", headers={"X-BPM-User": "ann"})
    assert page.status_code == 404 and not page.is_json and "html" in page.content_type
    anonymous = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert anonymous.status_code == 302 and anonymous.headers["Location"] == "/login?next=/no-such-page"


def test_an_unexpected_error_is_a_500_with_a_reference_that_is_logged(database_url, caplog):
    from bpm.app import create_app

    app = create_app({"database_url": database_url, "dev_identity": True})

    @app.route("/api/test-explode")
    def explode():
        raise RuntimeError("a bug with a secret detail")

    with caplog.at_level(logging.ERROR, logger="bpm.api.errors"):
        response = app.test_client().get("/api/test-explode", headers={"X-BPM-User": "ann"})
    app.extensions["bpm"].close()
    assert response.status_code == 500 and response.json["code"] == 500
    message = response.json["message"]
    assert "reference" in message and "secret" not in message and "try again" not in message
    reference = message.rsplit("reference ", 1)[1].split()[0]
    assert any(reference in record.getMessage() for record in caplog.records)


def test_a_violated_not_null_constraint_is_a_bug_not_a_conflict(rt, caplog):
    with caplog.at_level(logging.ERROR, logger="bpm.store.uow"), pytest.raises(StoreBug), rt.uow() as uow:
        uow.execute(insert(Task.__table__).values(id="t-without-columns"))
        uow.commit()
    assert any("statement" in record.getMessage() for record in caplog.records)
