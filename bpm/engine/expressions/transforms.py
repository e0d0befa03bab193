"""The standard Jexl transforms (``value|name(args)``) available to every definition.

Each one checks its arguments and raises ExpressionError with a message a
process designer can act on; none of them can reach outside the data.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import isodate

from bpm.engine.errors import ExpressionError
from bpm.engine.expressions.values import MAX_STRING, is_number, to_text, type_name
from bpm.engine.formats import date_text, money_text
from bpm.engine.undefined import UNDEFINED


def _text(value: Any, name: str) -> str:
    if type(value) is str:
        return value
    raise ExpressionError(f"'{name}' needs text, got {type_name(value)}")


def _list(value: Any, name: str) -> Sequence[Any]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return value
    raise ExpressionError(f"'{name}' needs a list, got {type_name(value)}")


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    raise ExpressionError(f"'{name}' needs an object, got {type_name(value)}")


def length(value: Any) -> int:
    """Number of characters, items or keys."""
    if isinstance(value, (str, Sequence, Mapping)):
        return len(value)
    raise ExpressionError(f"'length' needs text, a list or an object, got {type_name(value)}")


def join(value: Any, separator: Any = ",") -> str:
    """Join list items as text."""
    text = _text(separator, "join").join(to_text(v) for v in _list(value, "join"))
    if len(text) > MAX_STRING:
        raise ExpressionError("text too long")
    return text


def split(value: Any, separator: Any = ",") -> list[str]:
    """Split text into a list."""
    sep = _text(separator, "split")
    if not sep:
        raise ExpressionError("'split' needs a non-empty separator")
    return _text(value, "split").split(sep)


def default(value: Any, fallback: Any = None) -> Any:
    """The value, or ``fallback`` when it is undefined, null or empty text."""
    return fallback if value is None or value is UNDEFINED or value == "" else value


def to_number(value: Any) -> int | float:
    """Parse text as a number (whole numbers stay whole)."""
    if is_number(value):
        return value
    text = _text(value, "number").strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        result = float(text)
    except ValueError:
        raise ExpressionError(f"'number' cannot read '{text[:50]}' as a number") from None
    if not math.isfinite(result):
        raise ExpressionError(f"'number' cannot read '{text[:50]}' as a number")
    return result


def round_to(value: Any, digits: Any = 0) -> int | float:
    """Round half away from zero to ``digits`` decimals."""
    if not is_number(value) or type(digits) is not int:
        raise ExpressionError("'round' needs a number and a whole number of digits")
    factor = 10**digits
    result = math.floor(abs(value) * factor + 0.5) / factor
    result = math.copysign(result, value)
    return int(result) if digits <= 0 or result.is_integer() else result


def _numbers(value: Any, name: str) -> list[int | float]:
    items = list(_list(value, name))
    if not all(is_number(v) for v in items):
        raise ExpressionError(f"'{name}' needs a list of numbers")
    return items


def _parse_datetime(value: Any, name: str) -> dt.datetime | dt.date:
    if is_number(value):
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
    text = _text(value, name)
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ExpressionError(f"'{name}' cannot read '{text[:50]}' as an ISO date or date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _iso(moment: dt.datetime | dt.date) -> str:
    if isinstance(moment, dt.datetime):
        return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return moment.isoformat()


def parse_duration(text: Any, name: str = "duration") -> dt.timedelta | isodate.Duration:
    """Parse an ISO 8601 duration such as ``P1D`` or ``-PT30M``."""
    raw = _text(text, name)
    try:
        return isodate.parse_duration(raw)
    except (isodate.ISO8601Error, ValueError):
        raise ExpressionError(f"'{raw[:50]}' is not an ISO 8601 duration such as P1D or PT4H") from None


def add_duration(value: Any, duration: Any) -> str:
    """Add an ISO 8601 duration to a date or date-time; returns ISO text."""
    moment = _parse_datetime(value, "addDuration")
    try:
        return _iso(moment + parse_duration(duration, "addDuration"))
    except OverflowError:
        raise ExpressionError("'addDuration' went past the calendar") from None


def to_millis(value: Any) -> int:
    """Epoch milliseconds of an ISO date or date-time (dates at 00:00 UTC)."""
    moment = _parse_datetime(value, "millis")
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime(moment.year, moment.month, moment.day, tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def to_iso(value: Any) -> str:
    """ISO text of epoch milliseconds, a date or a date-time."""
    return _iso(_parse_datetime(value, "iso"))


def format_date(value: Any, pattern: Any = "%Y-%m-%d") -> str:
    """Format a date with strftime codes (``%d.%m.%Y``)."""
    text = _text(pattern, "formatDate")
    if len(text) > 100:
        raise ExpressionError("'formatDate' pattern too long")
    return _parse_datetime(value, "formatDate").strftime(text)


def days_between(start: Any, end: Any) -> int:
    """Whole days from ``start`` to ``end`` (negative if end is earlier)."""
    first = _parse_datetime(start, "daysBetween")
    last = _parse_datetime(end, "daysBetween")
    first_day = first.date() if isinstance(first, dt.datetime) else first
    last_day = last.date() if isinstance(last, dt.datetime) else last
    return (last_day - first_day).days


def money(value: Any, currency: Any = "") -> str:
    """A sum as the pages show it: ``1500|money('EUR')`` is "1,500.00 EUR" (the currency's decimals)."""
    if not is_number(value):
        raise ExpressionError(f"'money' needs a number, got {type_name(value)}")
    code = _text(currency, "money").strip()
    if len(code) > 10:
        raise ExpressionError("'money' needs a currency code such as EUR")
    return money_text(value, code)


def spoken_date(value: Any) -> str:
    """A date (or the day of a moment) as the pages show it: ``'2026-12-20'|date`` is "20 Dec 2026"."""
    parsed = _parse_datetime(value, "date")
    return date_text(parsed.date() if isinstance(parsed, dt.datetime) else parsed)


TRANSFORMS: dict[str, Callable[..., Any]] = {
    "length": length,
    "upper": lambda v: _text(v, "upper").upper(),
    "lower": lambda v: _text(v, "lower").lower(),
    "trim": lambda v: _text(v, "trim").strip(),
    "join": join,
    "split": split,
    "keys": lambda v: list(_mapping(v, "keys").keys()),
    "values": lambda v: list(_mapping(v, "values").values()),
    "default": default,
    "number": to_number,
    "string": to_text,
    "round": round_to,
    "abs": lambda v: abs(_numbers([v], "abs")[0]),
    "sum": lambda v: sum(_numbers(v, "sum")),
    "min": lambda v: min(_numbers(v, "min"), default=None),
    "max": lambda v: max(_numbers(v, "max"), default=None),
    "first": lambda v: next(iter(_list(v, "first")), None),
    "last": lambda v: (lambda items: items[-1] if len(items) else None)(_list(v, "last")),
    "addDuration": add_duration,
    "millis": to_millis,
    "iso": to_iso,
    "formatDate": format_date,
    "daysBetween": days_between,
    "money": money,
    "date": spoken_date,
}
