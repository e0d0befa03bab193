"""JavaScript-flavoured value rules for Jexl, without JavaScript's foot-guns.

Truthiness and string conversion follow JavaScript so definitions behave as
they do in Refluxo's TypeScript front ends; arithmetic refuses mixed types
instead of producing NaN, and never lets an expression build a huge value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from bpm.engine.errors import ExpressionError

MAX_STRING = 1_000_000
MAX_INT_BITS = 4096


def type_name(value: Any) -> str:
    """Name a value's type the way a process designer would."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, Sequence):
        return "list"
    return "value"


def is_number(value: Any) -> bool:
    """True for ints and floats, false for booleans."""
    return (type(value) is int or type(value) is float) or (
        isinstance(value, (int, float)) and not isinstance(value, bool))


def truthy(value: Any) -> bool:
    """JavaScript truthiness: empty lists and objects are true, 0, '' and null are false."""
    if value is None or value is False:
        return False
    if type(value) is str:
        return value != ""
    if is_number(value):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    return True


def to_text(value: Any) -> str:
    """Convert a value for interpolation into text; null becomes '' as in Refluxo."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    from bpm.engine.jsonvalue import to_json_value

    return json.dumps(to_json_value(value), ensure_ascii=False, separators=(",", ":"))


def number(value: Any, op: str) -> int | float:
    """Return ``value`` if it is a number, else raise a clear error for operator ``op``."""
    if is_number(value):
        return value
    raise ExpressionError(f"'{op}' needs numbers, got {type_name(value)}")


def _check_int(result: Any) -> Any:
    if type(result) is int and result.bit_length() > MAX_INT_BITS:
        raise ExpressionError("number too large")
    if type(result) is float and not math.isfinite(result):
        raise ExpressionError("number too large")
    return result


def add(left: Any, right: Any) -> Any:
    """Numbers add; if either side is text, both are joined as text."""
    if type(left) is str or type(right) is str:
        text = to_text(left) + to_text(right)
        if len(text) > MAX_STRING:
            raise ExpressionError("text too long")
        return text
    if is_number(left) and is_number(right):
        return _check_int(left + right)
    raise ExpressionError(f"cannot add {type_name(left)} and {type_name(right)}")


def subtract(left: Any, right: Any) -> Any:
    """Numeric subtraction."""
    return _check_int(number(left, "-") - number(right, "-"))


def multiply(left: Any, right: Any) -> Any:
    """Numeric multiplication (no string repetition)."""
    return _check_int(number(left, "*") * number(right, "*"))


def divide(left: Any, right: Any) -> Any:
    """True division; an exact result is a whole number, as JavaScript would print it."""
    left, right = number(left, "/"), number(right, "/")
    if right == 0:
        raise ExpressionError("division by zero")
    result = left / right
    if result.is_integer() and abs(result) < 2**53:
        return int(result)
    return _check_int(result)


def floor_divide(left: Any, right: Any) -> Any:
    """Floor division."""
    left, right = number(left, "//"), number(right, "//")
    if right == 0:
        raise ExpressionError("division by zero")
    return left // right


def modulo(left: Any, right: Any) -> Any:
    """Remainder."""
    left, right = number(left, "%"), number(right, "%")
    if right == 0:
        raise ExpressionError("division by zero")
    return left % right


def power(left: Any, right: Any) -> Any:
    """Exponentiation, bounded so a definition cannot ask for a gigantic number."""
    left, right = number(left, "^"), number(right, "^")
    if type(left) is int and type(right) is int and right >= 0:
        if max(left.bit_length(), 1) * right > MAX_INT_BITS:
            raise ExpressionError("number too large")
        return left**right
    try:
        result = float(left) ** float(right)
    except (OverflowError, ZeroDivisionError):
        raise ExpressionError("number too large") from None
    if isinstance(result, complex):
        raise ExpressionError("no real result")
    return _check_int(result)


def _comparable(left: Any, right: Any, op: str) -> None:
    if (is_number(left) and is_number(right)) or (type(left) is str and type(right) is str):
        return
    raise ExpressionError(f"cannot compare {type_name(left)} and {type_name(right)} with '{op}'")


def less(left: Any, right: Any) -> bool:
    """``<`` on two numbers or two strings."""
    _comparable(left, right, "<")
    return left < right


def less_equal(left: Any, right: Any) -> bool:
    """``<=`` on two numbers or two strings."""
    _comparable(left, right, "<=")
    return left <= right


def greater(left: Any, right: Any) -> bool:
    """``>`` on two numbers or two strings."""
    _comparable(left, right, ">")
    return left > right


def greater_equal(left: Any, right: Any) -> bool:
    """``>=`` on two numbers or two strings."""
    _comparable(left, right, ">=")
    return left >= right


def equal(left: Any, right: Any) -> bool:
    """Strict equality (no type coercion), except that 1 == 1.0."""
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    try:
        return bool(left == right)
    except Exception:
        return False


def not_equal(left: Any, right: Any) -> bool:
    """Negation of ``==``."""
    return not equal(left, right)


def contains(item: Any, container: Any) -> bool:
    """``a in b``: substring, list membership or object key."""
    if type(container) is str:
        if type(item) is not str:
            raise ExpressionError(f"cannot look for {type_name(item)} in text")
        return item in container
    if isinstance(container, Mapping):
        return type(item) is str and item in container
    if isinstance(container, Sequence):
        return any(equal(item, element) for element in container)
    raise ExpressionError(f"'in' needs text, a list or an object on the right, got {type_name(container)}")


def member(subject: Any, key: Any) -> Any:
    """``a.b`` and ``a['b']``: object keys only, plus ``length`` of text and lists.

    Never ``getattr``: nothing of the Python object model is reachable.
    """
    if type(subject) is dict:
        return subject.get(key) if type(key) is str else None
    if isinstance(subject, Mapping):
        return subject.get(key) if type(key) is str else None
    if key == "length" and (type(subject) is str or isinstance(subject, Sequence)):
        return len(subject)
    return None


def index(subject: Any, key: Any) -> Any:
    """``a[i]``: list or text position, or object key; anything else is null."""
    if type(key) is str:
        return member(subject, key)
    if type(key) is not int:
        if type(key) is float and key.is_integer():
            key = int(key)
        else:
            return None
    if type(subject) is str or (isinstance(subject, Sequence) and not isinstance(subject, Mapping)):
        return subject[key] if 0 <= key < len(subject) else None
    return None
