"""The one door for JSON from outside: what every request body must be before anything reads it.

orjson parses (it refuses NaN and Infinity, lone UTF-16 surrogates, nesting
past 1,024 levels and numbers past a double, all without recursing in
Python); one iterative walk then enforces our own limits: nesting no deeper
than ``BPM_MAX_JSON_DEPTH``, whole numbers within 64 bits (what a database
column can hold), no NUL character (PostgreSQL cannot store one). The API's
body parser calls ``parse_json_body``; the web pages will call ``check_value``
on what a form sends.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from bpm.errors import InvalidRequest, MalformedRequest

INT64 = (-(2**63), 2**63 - 1)

_LONE_SURROGATE = "a lone UTF-16 surrogate in a text (\\ud800-\\udfff come only in pairs)"
_EXPLAINED = {
    "number is infinity when parsed as double": "a number too large to represent",
    "no low surrogate in string": _LONE_SURROGATE,
    "invalid low surrogate in string": _LONE_SURROGATE,
    "invalid high surrogate in string": _LONE_SURROGATE,
    "str is not valid UTF-8: surrogates not allowed": "text that is not valid UTF-8",
}


def parse_json_body(raw: bytes, max_depth: int) -> Any:
    """Parse a request body, or raise MalformedRequest saying what is wrong and where."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedRequest(f"the request body is not valid JSON: {_explain(exc, raw, max_depth)}") from None
    check_value(value, max_depth)
    return value


def check_value(value: Any, max_depth: int) -> None:
    """Refuse ``value`` if it is nested too deeply or holds an integer past 64 bits (MalformedRequest, 400),
    or a NUL character (InvalidRequest naming the field, 422)."""
    if _first_problem(value, max_depth, with_path=False) is None:
        return
    problem = _first_problem(value, max_depth, with_path=True)
    assert problem is not None
    if problem.nul_at is not None:
        raise InvalidRequest("the body contains a NUL character", {problem.nul_at: ["NUL characters are not allowed"]})
    raise MalformedRequest(problem.message)


class _Problem(NamedTuple):
    message: str
    nul_at: str | None = None  # the path of a NUL character, which is a field error


def _first_problem(value: Any, max_depth: int, with_path: bool) -> _Problem | None:
    """One iterative pass; paths are only built (on a second pass) once something is wrong."""
    low, high = INT64
    stack: list[tuple[Any, int, str]] = [(value, 0, "$")]
    while stack:
        item, depth, path = stack.pop()
        kind = type(item)
        if kind is dict or kind is list:
            if depth >= max_depth:
                where = path if len(path) <= 80 else path[:80] + "…"
                return _Problem(f"the body is nested deeper than {max_depth} levels (BPM_MAX_JSON_DEPTH) at {where}")
            if kind is dict:
                for key, child in item.items():
                    if "\x00" in key:
                        return _Problem("a NUL character", nul_at=path)
                    stack.append((child, depth + 1, f"{path}.{key[:40]}" if with_path else path))
            else:
                stack.extend((child, depth + 1, f"{path}[{i}]" if with_path else path)
                             for i, child in enumerate(item))
        elif kind is int:
            if not low <= item <= high:
                return _Problem(f"the integer at {path} does not fit in 64 bits")
        elif kind is str and "\x00" in item:
            return _Problem("a NUL character", nul_at=path)
    return None


def _explain(exc: orjson.JSONDecodeError, raw: bytes, max_depth: int) -> str:
    where = f" at line {exc.lineno}, column {exc.colno}"
    if exc.msg == "depth limit exceeded":
        return f"nested deeper than {max_depth} levels (BPM_MAX_JSON_DEPTH){where}"
    explained = _EXPLAINED.get(exc.msg)
    if raw[exc.pos:exc.pos + 9].startswith((b"NaN", b"Infinity")) or raw[exc.pos - 1:exc.pos + 8] == b"-Infinity":
        explained = "NaN and Infinity are not JSON numbers"
    return (explained or exc.msg) + where
