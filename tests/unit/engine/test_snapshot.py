"""Snapshot wire format: lossless round trips, clear errors for anything malformed."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpm.engine import Snapshot, SnapshotError
from bpm.engine.undefined import UNDEFINED

GOOD = {
    "workflowId": "wf-1", "status": "error", "currentNodeId": "f",
    "context": {"a": [{"output": {"x": [1, 2.5, None, True, "s"]}, "timestamp": 1, "attempt": 1}],
                "f": [{"output": None, "error": "Error: boom", "timestamp": 2, "attempt": 1}]},
    "version": 1, "metadata": {"pausedReason": "Retry attempt 1"}, "lastStartedAt": 2, "totalExecutionTime": 0,
    "retryState": {"nodeId": "f", "attempts": 1, "nextRetryAt": 1002},
}


def _with(**changes):
    raw = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if value is ...:
            raw.pop(key)
        else:
            raw[key] = value
    return raw


def test_the_wire_format_round_trips_exactly():
    snap = Snapshot.from_dict(GOOD)
    assert snap.to_dict() == GOOD
    assert json.loads(snap.to_json()) == GOOD
    assert Snapshot.from_json(snap.to_json()) == snap
    assert list(snap.to_dict()) == list(GOOD), "keys keep Refluxo's order"


def test_optional_fields_are_omitted_as_refluxo_omits_them():
    raw = _with(lastStartedAt=..., totalExecutionTime=..., retryState=...)
    assert Snapshot.from_dict(raw).to_dict() == raw


def test_a_loaded_snapshot_does_not_share_the_callers_objects():
    raw = _with()
    snap = Snapshot.from_dict(raw)
    raw["context"]["a"][0]["output"]["x"].append("changed")
    raw["metadata"]["pausedReason"] = "changed"
    assert snap.to_dict() == GOOD


MALFORMED = [
    ("not an object", [], "$"),
    ("unknown field", _with(branches=[]), "$.branches"),
    ("workflowId missing", _with(workflowId=...), "$.workflowId"),
    ("status unknown", _with(status="sleeping"), "$.status"),
    ("currentNodeId a number", _with(currentNodeId=3), "$.currentNodeId"),
    ("version negative", _with(version=-1), "$.version"),
    ("version a string", _with(version="1"), "$.version"),
    ("version a boolean", _with(version=True), "$.version"),
    ("context a list", _with(context=[]), "$.context"),
    ("results not a list", _with(context={"a": {}}), "$.context.a"),
    ("result not an object", _with(context={"a": [3]}), "$.context.a[0]"),
    ("timestamp missing", _with(context={"a": [{"output": 1, "attempt": 1}]}), "$.context.a[0].timestamp"),
    ("attempt zero", _with(context={"a": [{"output": 1, "timestamp": 1, "attempt": 0}]}), "$.context.a[0].attempt"),
    ("error a number", _with(context={"a": [{"output": 1, "timestamp": 1, "error": 5}]}), "$.context.a[0].error"),
    ("unknown result field", _with(context={"a": [{"output": 1, "timestamp": 1, "extra": 1}]}),
     "$.context.a[0].extra"),
    ("metadata a list", _with(metadata=[]), "$.metadata"),
    ("retryState without nodeId", _with(retryState={"attempts": 1}), "$.retryState.nodeId"),
    ("nextRetryAt text", _with(retryState={"nodeId": "f", "attempts": 1, "nextRetryAt": "soon"}),
     "$.retryState.nextRetryAt"),
    ("lastStartedAt text", _with(lastStartedAt="now"), "$.lastStartedAt"),
]


@pytest.mark.parametrize("raw, path", [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_a_malformed_snapshot_is_rejected_naming_the_field(raw, path):
    with pytest.raises(SnapshotError) as caught:
        Snapshot.from_dict(raw)
    assert path in [p.path for p in caught.value.problems]
    with pytest.raises(SnapshotError):
        Snapshot.from_json(json.dumps(raw))


def test_bad_json_text_is_a_snapshot_error():
    with pytest.raises(SnapshotError, match="not valid JSON"):
        Snapshot.from_json(b"{")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12)


@given(st.dictionaries(st.sampled_from([*GOOD, "junk"]), json_values, max_size=9))
def test_no_input_escapes_as_anything_but_a_snapshot_error(raw):
    try:
        Snapshot.from_dict(raw)
    except SnapshotError as error:
        assert error.problems


def test_taking_over_a_freshly_decoded_dict_gives_the_same_snapshot():
    assert Snapshot.from_dict(json.loads(json.dumps(GOOD)), copy=False) == Snapshot.from_dict(GOOD)
    with pytest.raises(SnapshotError):
        Snapshot.from_dict(_with(version=-1), copy=False)


# As Refluxo's engine writes them (JSON.stringify of its snapshots): its key order, an error
# entry's keys as handleError writes them, no retryState once it is undefined, and a result
# whose executor returned no data without an "output" key.
REFLUXO_WRITTEN = [
    '{"workflowId":"wf-1","status":"paused","currentNodeId":"review","context":{"start":[{"output":'
    '{"amount":2.5,"tags":["a"],"who":null},"timestamp":1700000000001,"attempt":1}]},"version":1,'
    '"metadata":{},"lastStartedAt":1700000000000,"totalExecutionTime":3}',
    '{"workflowId":"wf-1","status":"error","currentNodeId":"call","context":{"call":[{"output":null,'
    '"error":"Error: boom","timestamp":1700000000005,"attempt":1}]},"version":0,"metadata":'
    '{"pausedReason":"Retry attempt 1"},"lastStartedAt":1700000000004,"totalExecutionTime":4,'
    '"retryState":{"nodeId":"call","attempts":1,"nextRetryAt":1700000001004}}',
    '{"workflowId":"wf-1","status":"failed","currentNodeId":"call","context":{"call":[{"output":null,'
    '"error":"Error: boom","timestamp":1700000000005,"attempt":1},{"output":null,"error":"Error: boom",'
    '"timestamp":1700000002000,"attempt":2}]},"version":0,"metadata":{"pausedReason":"Retry attempt 1"},'
    '"lastStartedAt":1700000001999,"totalExecutionTime":9}',
    '{"workflowId":"wf-1","status":"completed","currentNodeId":null,"context":{"start":[{"output":{"a":1},'
    '"timestamp":1700000000001,"attempt":1}],"log":[{"timestamp":1700000000002,"attempt":1}]},"version":2,'
    '"metadata":{},"lastStartedAt":1700000000000,"totalExecutionTime":2}',
]


@pytest.mark.parametrize("text", REFLUXO_WRITTEN, ids=["paused", "error with retry", "failed", "completed"])
def test_a_snapshot_refluxo_wrote_round_trips_byte_for_byte(text):
    assert Snapshot.from_json(text).to_json() == text.encode()
    assert orjson.dumps(Snapshot.from_dict(json.loads(text)).to_dict()) == text.encode()


def test_a_result_without_output_stays_without_output():
    snap = Snapshot.from_json(REFLUXO_WRITTEN[3])
    assert snap.context["log"][0].output is UNDEFINED
    assert "output" not in snap.to_dict()["context"]["log"][0]
