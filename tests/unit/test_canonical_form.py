"""The canonical form an entry's hash covers is fixed for good (docs/audit.md): entries written today must verify
in ten years. Its fast path (exact JSON types first) must write what the form's first definition wrote, kept
here as the reference, for any value; and a body hashed when the form was made still hashes the same."""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Mapping
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from bpm.store.chain import MAX_SAFE_INTEGER, canonical, entry_hash, stamp


def _reference(value: Any) -> Any:
    """The canonical form's shape as first written (before the fast path), unchanged."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < MAX_SAFE_INTEGER:
            return int(value)
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        return stamp(value)
    if isinstance(value, Mapping):
        return {str(k): _reference(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_reference(v) for v in value]
    return str(value)


class Kind(enum.StrEnum):
    A = "a"


SCALARS = (st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats() | st.text()
           | st.datetimes(timezones=st.just(dt.UTC)) | st.sampled_from(list(Kind)))
VALUES = st.recursive(SCALARS, lambda inner: (
    st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5) | st.integers(0, 9) | st.sampled_from(list(Kind)), inner, max_size=4)),
    max_leaves=25)


@given(VALUES)
def test_the_fast_path_writes_what_the_reference_writes(value):
    assert canonical(value) == orjson.dumps(_reference(value), option=orjson.OPT_SORT_KEYS)


def test_a_body_hashed_when_the_form_was_made_hashes_the_same():
    body = {"chain": "i-1", "position": 3, "prev": "0" * 64,
            "at": stamp(dt.datetime(2026, 1, 1, 9, 30, 0, 250000, tzinfo=dt.UTC)), "actor": "bob", "cause": Kind.A,
            "node": None, "status": "paused", "revision": 2, "snapshotVersion": 2, "task": None, "onBehalfOf": None,
            "delta": {"appended": {"n": [{"output": {
                "amount": 1500.0, "rate": 0.25, "big": 2.0**60,
                "when": dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))), "t": (1, 2.0, "x"),
                "flag": True, "k": {1: "one"}, "nan": float("inf")}}]}},
            "changes": {"comment": [None, "naïve ✓"]}}
    assert entry_hash(body) == "1e5d2ddd2a6c5b0bfca54b422ed9510a00dbb051cda5d2edaec8350c3eaaf98a"
