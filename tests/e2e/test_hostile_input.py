"""Hostile bodies, headers and names against every operation: a clear 4xx, never a 500, nothing written."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpm.errors import InvalidRequest, MalformedRequest
from bpm.inbound import check_value, parse_json_body

from ..conftest import EXPENSE, database_dump

START = '{"definition":"expense-approval","payload":{"requester":"ann","manager":"bob","amount":%s,' \
        '"currency":"EUR","description":%s}}'

# raw body -> what the 400's message must say
MALFORMED = {
    START % ("1", "[" * 100 + "]" * 100): "nested deeper than 64 levels (BPM_MAX_JSON_DEPTH)",
    START % ("1", "[" * 1000 + "]" * 1000): "nested deeper than 64 levels (BPM_MAX_JSON_DEPTH)",
    START % ("1", "{\"a\":" * 5000 + "1" + "}" * 5000): "nested deeper than 64 levels",
    START % ("NaN", '"laptop"'): "NaN and Infinity are not JSON numbers",
    START % ("Infinity", '"laptop"'): "NaN and Infinity are not JSON numbers",
    START % ("-Infinity", '"laptop"'): "NaN and Infinity are not JSON numbers",
    START % ("9" * 5000, '"laptop"'): "a number too large to represent",
    START % (str(2**63), '"laptop"'): "does not fit in 64 bits",
    START % ("1", '"\\ud800"'): "lone UTF-16 surrogate",
    START % ("1", '"\\udc00x"'): "lone UTF-16 surrogate",
    START % ("1", '"\\ud800\\u0041"'): "lone UTF-16 surrogate",
}


def _unchanged(rt, call):
    before = database_dump(rt)
    response = call()
    assert database_dump(rt) == before, "a refused request must not write anything"
    return response


@pytest.mark.parametrize("raw, says", MALFORMED.items(), ids=range(len(MALFORMED)))
def test_a_hostile_body_is_a_400_that_names_the_limit_and_writes_nothing(client, rt, raw, says):
    response = _unchanged(rt, lambda: client.post("/api/instances", data=raw.encode(),
                                                  headers={"X-BPM-User": "ann", "Content-Type": "application/json"}))
    assert response.status_code == 400, response.json
    assert says in response.json["message"], response.json["message"]


def test_the_depth_limit_is_a_setting_and_a_definition_nested_500_deep_is_refused(client, rt):
    deep = {"id": "deep", "name": "Deep", "edges": [],
            "nodes": [{"id": "s", "type": "start", "data": {"x": json.loads("[" * 500 + "]" * 500)}}]}
    # sent as text: orjson (the test client's encoder) refuses to write it
    response = _unchanged(rt, lambda: client.post("/api/definitions", data=json.dumps(deep),
                                                  headers={"X-BPM-User": "dana", "Content-Type": "application/json"}))
    assert response.status_code == 400 and "BPM_MAX_JSON_DEPTH" in response.json["message"]
    assert parse_json_body(b"[[[1]]]", max_depth=3) == [[[1]]]
    with pytest.raises(MalformedRequest, match="deeper than 2 levels"):
        parse_json_body(b"[[[1]]]", max_depth=2)


def test_the_web_forms_can_check_values_through_the_same_door():
    with pytest.raises(InvalidRequest) as caught:
        check_value({"a": ["ok", "b\x00d"]}, max_depth=64)
    assert caught.value.errors == {"$.a[1]": ["NUL characters are not allowed"]}
    with pytest.raises(MalformedRequest, match=r"\$\.n does not fit in 64 bits"):
        check_value({"n": 2**64}, max_depth=64)
    check_value({"n": 2**63 - 1, "m": -(2**63), "t": "\u00e9\U0001f600"}, max_depth=64)


@pytest.fixture
def targets(api):
    """An instance and a task to aim at: the ids every path with a parameter gets."""
    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    task_id = started["openTasks"][0]["id"]
    attached = api.as_("bob").post(f"/api/tasks/{task_id}/attachments", content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(b"%PDF-1.7\n%%EOF\n"), "receipt.pdf")}).json
    return {"instance_id": started["id"], "task_id": task_id, "attachment_id": attached["id"], "job_id": "1",
            "message_id": "00000000-0000-4000-8000-000000000000", "absence_id": "00000000-0000-4000-8000-00000000000a",
            "key": "expense-approval", "version": "1", "form_id": "expense-request", "name": "a-scenario"}


def _operations(client):
    spec = client.get("/api/openapi.json", headers={"X-BPM-User": "ann"}).json
    return [(method.upper(), path) for path, ops in spec["paths"].items() for method in ops
            if method in ("get", "post", "put", "patch", "delete")]


def test_every_operation_answers_hostile_bodies_with_a_4xx_and_writes_nothing(client, rt, targets):
    operations = _operations(client)
    assert len(operations) >= 20
    failures = []
    for method, path in operations:
        url = path.format(**targets)
        for raw in MALFORMED:
            before = database_dump(rt)
            response = client.open(url, method=method, data=raw.encode(),
                                   headers={"X-BPM-User": "admin", "Content-Type": "application/json"})
            if response.status_code >= 500 or database_dump(rt) != before:
                failures.append(f"{method} {path}: {response.status_code} {str(response.json)[:200]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("value, status", [
    ('"\u00b2"', 400), ('"' + "9" * 5000 + '"', 412), ('"1', 400), ("1", 400), ('"-1"', 400), ("", 400),
    ('"1", "2"', 400), ('W/"1"', 200), ('"1"', 200), ("*", 200),
])
def test_if_match_is_a_quoted_revision_or_refused_never_guessed(client, rt, targets, value, status):
    url = f"/api/instances/{targets['instance_id']}/cancel"
    before = database_dump(rt)
    response = client.post(url, json={"reason": "x"}, headers={"X-BPM-User": "admin", "If-Match": value})
    assert response.status_code == status, response.json
    if status != 200:
        assert database_dump(rt) == before, "a refused cancel changes nothing"
        assert len(response.json["message"]) < 200, "the header is echoed cut"


def test_names_echoed_in_errors_are_cut(client, api, targets):
    long = "u" * 10_000
    unknown = client.get("/api/tasks", headers={"X-BPM-User": long})
    assert unknown.status_code == 401 and len(unknown.json["message"]) < 150
    for url in (f"/api/instances/{'9' * 5000}", f"/api/definitions/{'k' * 5000}", f"/api/tasks/{'7' * 5000}"):
        response = api.as_("admin").get(url)
        assert response.status_code == 404 and len(response.json["message"]) < 150, response.json
    delegated = api.as_("bob").post(f"/api/tasks/{targets['task_id']}/delegate", json={"to": long})
    assert delegated.status_code in (403, 422) and len(json.dumps(delegated.json)) < 400


# Raw JSON texts built from hostile pieces, nested at random.
_PIECES = st.sampled_from([
    b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"9" * 400, str(2**63).encode(), str(2**64).encode(),
    b'"\\ud800"', b'"\\udfff"', b'"\\ud800\\ud800"', b'"\\u0000"', b'"ok"', b"0", b"-0", b"1.5e-400", b"true",
    b"null", b"[]", b"{}",
])
_TEXTS = st.recursive(_PIECES, lambda inner: st.one_of(
    st.builds(lambda items: b"[" + b",".join(items) + b"]", st.lists(inner, max_size=3)),
    st.builds(lambda v: b'{"payload":' + v + b',"definition":"expense-approval"}', inner),
    st.builds(lambda v, n: b"[" * n + v + b"]" * n, inner, st.integers(0, 120)),
), max_leaves=6)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(raw=_TEXTS)
def test_random_hostile_json_never_reaches_a_500(client, raw):
    for url in ("/api/instances", "/api/definitions/validate"):
        response = client.post(url, data=raw, headers={"X-BPM-User": "dana", "Content-Type": "application/json"})
        assert response.status_code < 500, (raw[:200], response.json)
