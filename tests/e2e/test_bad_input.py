"""Bad input gets a clear 4xx with field messages and changes nothing in the database."""

from __future__ import annotations

import io
import json

import pytest

from ..conftest import EXPENSE, REPO, database_dump

VALID = json.loads((REPO / "processes" / "expense-approval.json").read_text())


def _unchanged(rt, call):
    before = database_dump(rt)
    response = call()
    assert database_dump(rt) == before, "a rejected request must not write anything"
    return response


def _definition(**changes):
    body = json.loads(json.dumps(VALID))
    body.update(changes)
    return body


@pytest.mark.parametrize("body, field, message", [
    ({"name": "x", "nodes": []}, "id", "Missing data"),
    (_definition(nodes="many"), "nodes", "Not a valid list"),
    (_definition(id="Bad Key!"), "$.id", "process key"),
    (_definition(nodes=[{"id": "s", "type": "start", "data": {"form": "nope"}}]), "$.nodes[0].data.form",
     "does not exist"),
    (_definition(nodes=[{"id": "s", "type": "start"}, {"id": "t", "type": "teleport"}]), "$.nodes[1].type",
     "unknown type 'teleport'"),
    (_definition(nodes=[{"id": "s", "type": "start"}, {"id": "t", "type": "human-task", "data": {"priority": 900}}],
                 edges=[{"id": "e", "source": "s", "target": "t"}]), "$.nodes[1].data", "'title' is a required"),
    (_definition(nodes=[{"id": "s", "type": "start"},
                        {"id": "d", "type": "set", "data": {"values": {"x": "{{ 1 + }}"}}}],
                 edges=[{"id": "e", "source": "s", "target": "d"}]), "$.nodes[1].data.values.x", "syntax error"),
    (_definition(nodes=[{"id": "s", "type": "start"}], edges=[{"id": "e", "source": "s", "target": "ghost"}]),
     "$.edges[0].target", "does not exist"),
    (_definition(nodes=[{"id": "a", "type": "set", "data": {"values": {}}}]), "$.nodes", "exactly one start node"),
])
def test_an_invalid_definition_is_refused_with_the_field_that_is_wrong(api, rt, body, field, message):
    response = _unchanged(rt, lambda: api.as_("dana").post("/api/definitions", json=body))
    assert response.status_code == 422, response.json
    assert response.json["code"] == 422 and response.json["status"] == "Unprocessable Entity"
    assert any(message in m for m in response.json["errors"][field]), response.json["errors"]
    report = api.as_("dana").post("/api/definitions/validate", json=body)
    if report.status_code == 422:  # refused by the request schema before any graph check
        assert field in report.json["errors"]
    else:
        assert report.status_code == 200 and report.json["valid"] is False
        assert any(p["path"] == field for p in report.json["problems"])


def test_malformed_json_is_a_400_that_says_where_and_changes_nothing(client, rt):
    response = _unchanged(rt, lambda: client.post("/api/instances", data=b'{"definition":\n "x" "y"}',
                                                   headers={"X-BPM-User": "ann",
                                                            "Content-Type": "application/json"}))
    assert response.status_code == 400 and response.json["code"] == 400
    assert response.json["message"] == ("the request body is not valid JSON: "
                                        "unexpected character, expected ',' or '}' at line 2, column 6"), response.json


def test_starting_an_unknown_process_is_404(api, rt):
    response = _unchanged(rt, lambda: api.post("/api/instances", json={"definition": "nope", "payload": {}}))
    assert response.status_code == 404 and "nope" in response.json["message"]


def test_start_data_that_breaks_the_form_is_422_per_field(api, rt):
    payload = {**EXPENSE, "amount": "lots", "currency": "XYZ", "extra": 1}
    del payload["manager"]
    response = _unchanged(rt, lambda: api.post("/api/instances", json={"definition": "expense-approval",
                                                                       "payload": payload}))
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"amount", "currency", "extra", "manager"}


def test_task_data_that_breaks_the_form_is_422_and_the_task_stays_open(api, rt):
    task_id = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}
                       ).json["openTasks"][0]["id"]
    url = f"/api/tasks/{task_id}/complete"
    for body, field in (({"outcome": "approve", "data": {"comment": 5}}, "comment"),
                        ({"outcome": "approve", "data": {"unknown": "x"}}, "unknown"),
                        ({"outcome": "maybe"}, "outcome")):
        response = _unchanged(rt, lambda body=body: api.as_("bob").post(url, json=body))
        assert response.status_code == 422 and field in response.json["errors"], response.json


def test_an_oversized_body_is_413(api, rt):
    huge = {"definition": "expense-approval", "payload": {**EXPENSE, "description": "x" * 2_000_000}}
    response = _unchanged(rt, lambda: api.post("/api/instances", json=huge))
    assert response.status_code == 413 and response.json["code"] == 413
    assert response.json["message"] == "the request body is larger than the limit of 1,048,576 bytes"


def test_a_stale_if_match_is_412_and_changes_nothing(api, rt):
    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
    task_id = started.json["openTasks"][0]["id"]
    seen = api.as_("bob").get(f"/api/tasks/{task_id}")
    assert seen.headers["ETag"] == '"1"'
    changed_elsewhere = api.as_("bob").post(f"/api/tasks/{task_id}/delegate", json={"to": "dave"})
    assert changed_elsewhere.status_code == 200 and changed_elsewhere.headers["ETag"] == '"2"'
    stale = _unchanged(rt, lambda: api.as_("dave").post(f"/api/tasks/{task_id}/complete",
                                                         json={"outcome": "approve"}, headers={"If-Match": '"1"'}))
    assert stale.status_code == 412, "the ETag seen before the delegation is stale"
    cancel = _unchanged(rt, lambda: api.post(f"/api/instances/{started.json['id']}/cancel", json={},
                                             headers={"If-Match": '"7"'}))
    assert cancel.status_code == 412
    current = api.as_("dave").get(f"/api/tasks/{task_id}")
    ok = api.as_("dave").post(f"/api/tasks/{task_id}/complete", json={"outcome": "approve"},
                              headers={"If-Match": current.headers["ETag"]})
    assert ok.status_code == 200


def test_without_an_identity_requests_are_401(client, rt):
    response = _unchanged(rt, lambda: client.post("/api/instances", json={"definition": "expense-approval",
                                                                          "payload": EXPENSE}))
    assert response.status_code == 401
    assert client.get("/api/tasks", headers={"X-BPM-User": "mallory"}).status_code == 401


def test_the_identity_header_is_ignored_unless_dev_identity_is_on(database_url):
    from bpm.app import create_app

    app = create_app({"database_url": database_url, "dev_identity": False})
    response = app.test_client().get("/api/tasks", headers={"X-BPM-User": "admin"})
    assert response.status_code == 401 and "BPM_DEV_IDENTITY=1" in response.json["message"]
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="bpm"'
    app.extensions["bpm"].close()


def test_text_with_nul_characters_is_refused_everywhere(api, rt):
    body = {"definition": "expense-approval", "payload": {**EXPENSE, "description": "bad\x00byte"}}
    response = _unchanged(rt, lambda: api.post("/api/instances", json=body))
    assert response.status_code == 422 and response.json["errors"] == {
        "$.payload.description": ["NUL characters are not allowed"]}
    assert api.get("/api/tasks?definitionKey=a%00b").status_code == 422
    assert api.get("/api/instances/a%00b").status_code == 422


def test_nul_characters_are_found_in_keys_and_query_names_and_an_escaped_backslash_is_no_nul(api, rt):
    keyed = {"definition": "expense-approval", "payload": {**EXPENSE, "bad\x00key": 1}}
    response = _unchanged(rt, lambda: api.post("/api/instances", json=keyed))
    assert response.status_code == 422 and list(response.json["errors"]) == ["$.payload"]
    assert api.get("/api/tasks?a%00b=1").status_code == 422
    # The JSON text holds "\\u0000": a backslash followed by "u0000", which is not a NUL character.
    literal = {"definition": "expense-approval", "payload": {**EXPENSE, "description": "C:\\u0000"}}
    response = api.post("/api/instances", json=literal)
    assert response.status_code == 201, response.json
    assert response.json["snapshot"]["context"]["submit"][0]["output"]["description"] == "C:\\u0000"


def test_a_chunked_body_is_read_like_a_sized_one_and_refused_with_413_when_too_big(api, rt):
    chunked = {"Transfer-Encoding": "chunked", "Content-Type": "application/json"}
    terminated = {"wsgi.input_terminated": True}  # what a server that de-chunks the body says
    body = json.dumps({"definition": "expense-approval", "payload": EXPENSE}).encode()
    response = api.client.post("/api/instances", data=io.BytesIO(body), environ_overrides=terminated,
                               headers={"X-BPM-User": "ann", **chunked})
    assert response.status_code == 201, response.json
    big = json.dumps({"definition": "expense-approval", "payload": {**EXPENSE, "description": "x" * 2_000_000}})
    response = _unchanged(rt, lambda: api.client.post("/api/instances", data=io.BytesIO(big.encode()),
                                                      environ_overrides=terminated,
                                                      headers={"X-BPM-User": "ann", **chunked}))
    assert response.status_code == 413 and response.json["code"] == 413


@pytest.mark.parametrize("url, field", [
    ("/api/tasks?definitonKey=expense-approval", "definitonKey"),
    ("/api/instances?startedby=ann&page=1", "startedby"),
    ("/api/definitions?page=2", "page"),
])
def test_a_misspelt_filter_is_a_422_that_names_it_not_an_unfiltered_list(api, url, field):
    response = api.as_("admin").get(url)
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {field: ["unknown query parameter"]}
    assert response.json["message"] == f"invalid request fields: {field}"


def test_the_paged_lists_still_take_their_paging_and_filters(api):
    for url in ("/api/tasks?page=1&page_size=5&scope=mine&definitionKey=x&instanceId=y&status=open",
                "/api/instances?page=2&page_size=1&startedBy=ann&status=paused&definitionKey=x&businessKey=b",
                "/api/definitions?status=published"):
        assert api.as_("admin").get(url).status_code == 200, url


@pytest.mark.parametrize("url", ["/inbox?page=%C2%B9", "/notifications?page=%C2%B9", "/requests?page=%C2%B9",
                                 "/inbox?page=%D9%A3", "/audit?page=%C2%B9"])
def test_a_page_number_in_other_digits_is_page_one_not_a_500(client, url):
    """``str.isdigit`` takes "¹" and "٣"; ``int`` refuses the first: numbers are ASCII digits (paging.digits)."""
    user = "audrey" if url.startswith("/audit") else "ann"
    assert client.get(url, headers={"X-BPM-User": user, "Accept": "text/html"}).status_code == 200
