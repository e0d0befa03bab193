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

MAX_VALUES = 100_000
"""JSON values (scalars and containers) in one copied value: ``[a, a]`` repeated doubles a value's
size with every step while sharing memory, and copying it is what must stop."""


class TooManyValues(ValueError):
    """A value to copy holds more than ``MAX_VALUES`` JSON values."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit:,} values")
        self.limit = limit


class Budget:
    """How many more values a copy may make; shared down the recursion."""

    __slots__ = ("left", "limit")

    def __init__(self, limit: int = MAX_VALUES) -> None:
        self.left = self.limit = limit

    def spend(self) -> None:
        """Count one value, raising TooManyValues past the limit."""
        self.left -= 1
        if self.left < 0:
            raise TooManyValues(self.limit)


class NotJsonError(ValueError):
    """The value cannot be represented in JSON; ``path`` says where."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


def to_json_value(value: Any, path: str = "$", budget: Budget | None = None) -> JsonValue:
    """Return a deep copy of ``value`` made only of JSON types, or raise NotJsonError.

    Mappings become dicts (string keys only), sequences other than strings
    become lists, and non-finite floats are refused because JSON has no
    spelling for them. ``UNDEFINED`` is kept as JavaScript's JSON.stringify
    keeps it: a key holding it is left out, in a list it is null, and on its
    own it stays UNDEFINED (no value at all). More than ``MAX_VALUES`` values
    raise TooManyValues. The copy builds no paths; only when something is not
    JSON is it walked again to say where.
    """
    try:
        return _copy(value, budget if budget is not None else Budget())
    except _NotJson:
        _locate(value, path)  # raises NotJsonError saying where
        raise NotJsonError(path, "not a JSON value") from None


class _NotJson(Exception):
    """Raised by the fast copy; the caller looks for the path."""


def _copy(value: Any, budget: Budget) -> JsonValue:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None or value is UNDEFINED:
        return value
    budget.left -= 1
    if budget.left < 0:
        raise TooManyValues(budget.limit)
    if kind is dict:
        return {(key if type(key) is str else _bad()): _copy(item, budget) for key, item in value.items()
                if item is not UNDEFINED}
    if kind is list or kind is tuple:
        return [None if item is UNDEFINED else _copy(item, budget) for item in value]
    if kind is float:
        if math.isfinite(value):
            return value
        raise _NotJson
    return _copy_other(value, budget)


def _copy_other(value: Any, budget: Budget) -> JsonValue:
    """Subclasses of the JSON types, and mappings and sequences that are not dicts and lists."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _copy(float(value), budget)
    if isinstance(value, Mapping):
        return {(key if type(key) is str else _bad()): _copy(item, budget) for key, item in value.items()
                if item is not UNDEFINED}
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [None if item is UNDEFINED else _copy(item, budget) for item in value]
    raise _NotJson


def _bad() -> str:
    raise _NotJson


def _locate(value: Any, path: str) -> None:
    """Raise NotJsonError at the first place in ``value`` that is not JSON."""
    kind = type(value)
    if kind in _IMMUTABLE_SCALARS or value is UNDEFINED or isinstance(value, (bool, str, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotJsonError(path, f"{value} is not a finite number")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _key(key, path)
            _locate(item, f"{path}.{key}")
        return
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        for i, item in enumerate(value):
            _locate(item, f"{path}[{i}]")
        return
    raise NotJsonError(path, f"a {kind.__name__} is not a JSON value")


def _key(key: Any, path: str) -> str:
    if type(key) is str:
        return key
    raise NotJsonError(path, f"object key {key!r} is not a string")
