"""JavaScript's ``undefined``: a value that is not there, as opposed to ``null``.

Refluxo runs on JavaScript, where a missing path in an expression, or an
executor that returns no data, is ``undefined``, and ``JSON.stringify`` then
leaves the key out of the snapshot (or writes ``null`` in a list). Python has
only ``None``; this singleton keeps the difference so our snapshots have the
same keys as Refluxo's.
"""

from __future__ import annotations

from typing import Any, Final


class _Undefined:
    """The type of ``UNDEFINED``; falsy, equal only to itself."""

    __slots__ = ()
    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __reduce__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Final = _Undefined()


def defined_or_none(value: Any) -> Any:
    """``None`` for ``UNDEFINED``, anything else unchanged: for Python code that reads outputs."""
    return None if value is UNDEFINED else value
