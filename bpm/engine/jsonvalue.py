"""Plain-JSON copies of values that are about to live in a snapshot.

A snapshot must survive a JSON round trip unchanged, and must not change when
the object an executor returned is mutated later. Copying into plain JSON
types at the moment a value enters a snapshot guarantees both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from bpm.engine.undefined import UNDEFINED

JsonValue = Any  # None | bool | int | float | str | list[JsonValue] | dict[str, JsonValue]

_IMMUTABLE_SCALARS = (str, bool, int, type(None))


class NotJsonError(ValueError):
    """The value cannot be represented in JSON; ``path`` says where."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


def to_json_value(value: Any, path: str = "$") -> JsonValue:
    """Return a deep copy of ``value`` made only of JSON types, or raise NotJsonError.

    Mappings become dicts (string keys only), sequences other than strings
    become lists, and non-finite floats are refused because JSON has no
    spelling for them. ``UNDEFINED`` is kept as JavaScript's JSON.stringify
    keeps it: a key holding it is left out, in a list it is null, and on its
    own it stays UNDEFINED (no value at all).
    """
    kind = type(value)
    if kind in _IMMUTABLE_SCALARS or value is UNDEFINED:
        return value
    if kind is dict:
        return {_key(k, path): to_json_value(v, f"{path}.{k}") for k, v in value.items() if v is not UNDEFINED}
    if kind is list or kind is tuple:
        return [None if v is UNDEFINED else to_json_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if kind is float:
        if math.isfinite(value):
            return value
        raise NotJsonError(path, f"{value} is not a finite number")
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return to_json_value(float(value), path)
    if isinstance(value, Mapping):
        return {_key(k, path): to_json_value(v, f"{path}.{k}") for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [None if v is UNDEFINED else to_json_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise NotJsonError(path, f"a {kind.__name__} is not a JSON value")


def _key(key: Any, path: str) -> str:
    if type(key) is str:
        return key
    raise NotJsonError(path, f"object key {key!r} is not a string")
